/**
 * `idgate check` opens what `serve` would open — the web TLS key pair, PostgreSQL TLS files, every
 * connector — and names file, key and line for each problem; `serve` refuses the same files.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { SERVER_CERT, SERVER_KEY } from '../storage/postgres-tls-fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-check-'));
  await writeFile(path.join(dir, 'cert.pem'), SERVER_CERT);
  await writeFile(path.join(dir, 'key.pem'), SERVER_KEY);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function check(name: string, yaml: string, command: 'check' | 'serve' = 'check') {
  const file = path.join(dir, name);
  await writeFile(file, `issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\n${yaml}`);
  const out = { stdout: '', stderr: '' };
  const code = await main([command, '--config', file], { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s) });
  return { code, file, ...out };
}

const saml = (caData: string) => `web: { http: "127.0.0.1:5556" }
connectors:
  - type: samlExperimental
    id: corp-saml
    name: Corp
    config:
      ssoURL: https://idp.example/sso
      caData: ${caData}
      redirectURI: http://127.0.0.1:5556/dex/callback
      usernameAttr: name
      emailAttr: email
`;

describe('idgate check opens what serve would open', () => {
  it('refuses a connector that cannot open (a caData with no certificate), naming it and its line', async () => {
    const result = await check('saml.yaml', saml(Buffer.from('not a certificate').toString('base64')));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${result.file}: invalid configuration`);
    expect(result.stderr).toMatch(/connectors\[0\]\.config: connector "corp-saml" cannot open: caData holds no PEM certificate \(line 8\)/);
  });

  it('accepts the same connector with a real certificate', async () => {
    const result = await check('saml-ok.yaml', saml(Buffer.from(SERVER_CERT).toString('base64')));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('names a missing web.tlsKey with its key and line, in check and in serve', async () => {
    const yaml = `web:\n  https: 127.0.0.1:5554\n  tlsCert: ${path.join(dir, 'cert.pem')}\n  tlsKey: ${path.join(dir, 'missing-key.pem')}\n`;
    for (const command of ['check', 'serve'] as const) {
      const result = await check(`tls-${command}.yaml`, yaml, command);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`web.tlsKey: ${path.join(dir, 'missing-key.pem')}: file not found (line 6)`);
    }
  });

  it('refuses a certificate and key that are not a pair', async () => {
    const result = await check('tls-swapped.yaml', `web:\n  https: 127.0.0.1:5554\n  tlsCert: ${path.join(dir, 'key.pem')}\n  tlsKey: ${path.join(dir, 'cert.pem')}\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/web\.tlsCert: .* are not a usable certificate and key \(.*\) \(line 5\)/);
  });

  it('names a missing PostgreSQL TLS file', async () => {
    const file = path.join(dir, 'pg.yaml');
    const caFile = path.join(dir, 'no-ca.pem');
    await writeFile(file, `issuer: http://127.0.0.1:5556/dex
storage:
  type: postgres
  config:
    host: db.idgate.test
    ssl:
      mode: verify-full
      caFile: ${caFile}
web: { http: "127.0.0.1:5556" }
`);
    const out = { stdout: '', stderr: '' };
    expect(await main(['check', '--config', file], { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s) })).toBe(1);
    expect(out.stderr).toContain(`storage.config.ssl.caFile: ${caFile}: file not found (line 8)`);
  });
});
