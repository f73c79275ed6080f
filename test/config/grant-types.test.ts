// oauth2.grantTypes and oauth2.passwordConnector, checked against the rest of the config: Dex's values
// accepted (its own example's oauth2 section passes `idgate check`), the password grant only with a
// connector that checks passwords, and `implicit` in agreement with oauth2.responseTypes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const base = `issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: 127.0.0.1:5556 }
`;
const passwordDB = 'enablePasswordDB: true\n';
const connectors = `connectors:
  - { type: mockCallback, id: mock, name: Mock }
  - { type: mockPassword, id: pw, name: Passwords, config: { username: kilgore, password: trout } }
`;

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(`${base}${yaml}`, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-grants-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("Dex's oauth2.grantTypes", () => {
  it("passes idgate check with the oauth2 section of Dex's example config (examples/config-dev.yaml)", async () => {
    const dex = (await readFile('test/fixtures/dex-config.yaml', 'utf8'))
      .replaceAll('__PORT__', '5556').replaceAll('__TELEMETRY__', '5558').replace('__DB__', path.join(dir, 'dex.db'))
      .replace('oauth2:\n  skipApprovalScreen: true\n', `oauth2:
  skipApprovalScreen: true
  grantTypes:
    - "authorization_code"
    - "refresh_token"
    - "client_credentials"
    - "urn:ietf:params:oauth:grant-type:device_code"
    - "urn:ietf:params:oauth:grant-type:token-exchange"
    - "password"
  passwordConnector: local
`);
    expect(dex).toContain('passwordConnector: local');
    const file = path.join(dir, 'dex.yaml');
    await writeFile(file, dex);
    const out = { stdout: '', stderr: '' };
    const code = await main(['check', '--config', file], { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s) });
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
  });

  it('accepts implicit where oauth2.responseTypes returns tokens from /auth, and refuses it where none does', () => {
    expect(problemsOf('oauth2:\n  responseTypes: [code, token, id_token]\n  grantTypes: [authorization_code, implicit]\n')).toEqual([]);
    expect(problemsOf('oauth2:\n  grantTypes: [authorization_code, refresh_token, implicit]\n')).toEqual([
      'oauth2.grantTypes[2]: implicit is switched by oauth2.responseTypes: list a type that returns tokens from /auth (e.g. "id_token token", "code id_token"), or remove implicit',
    ]);
    expect(problemsOf('oauth2:\n  responseTypes: [code, id_token]\n  grantTypes: [authorization_code]\n')).toEqual([
      'oauth2.grantTypes: does not list implicit, but oauth2.responseTypes (code, id_token) returns tokens from /auth: add implicit, or remove those response types',
    ]);
  });

  it('lists the values when one is unknown', () => {
    expect(problemsOf('oauth2:\n  grantTypes: [authorization_code, jwt-bearer]\n')).toEqual([
      'oauth2.grantTypes[1]: unknown value (expected one of: authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, password, implicit)',
    ]);
  });
});

describe('oauth2.passwordConnector', () => {
  it('enables the password grant through the password DB or a password connector', () => {
    expect(problemsOf(`${passwordDB}oauth2:\n  passwordConnector: local\n`)).toEqual([]);
    expect(problemsOf(`${connectors}oauth2:\n  passwordConnector: pw\n  grantTypes: [authorization_code, password]\n`)).toEqual([]);
  });

  it('refuses password in a grant list without a passwordConnector, naming the entry', () => {
    expect(problemsOf('oauth2:\n  grantTypes: [authorization_code, password]\n')).toEqual([
      'oauth2.grantTypes[1]: the password grant needs oauth2.passwordConnector (the connector that checks the passwords)',
    ]);
    expect(problemsOf('staticClients:\n  - { id: app, secret: s, grantTypes: [authorization_code, password] }\n')).toEqual([
      'staticClients[0].grantTypes[1]: the password grant needs oauth2.passwordConnector (the connector that checks the passwords)',
    ]);
  });

  it('refuses a passwordConnector that names nothing, the password DB while it is off, or a connector without passwords', () => {
    expect(problemsOf(`${connectors}oauth2:\n  passwordConnector: ldap\n`)).toEqual(['oauth2.passwordConnector: no connector with id "ldap"']);
    expect(problemsOf('oauth2:\n  passwordConnector: local\n')).toEqual([
      'oauth2.passwordConnector: names the password DB ("local"), which is off: set enablePasswordDB: true',
    ]);
    expect(problemsOf(`${connectors}oauth2:\n  passwordConnector: mock\n`)).toEqual([
      'oauth2.passwordConnector: connector "mock" (type mockCallback) does not check passwords: name one of type ldap, mockPassword, or "local" (enablePasswordDB)',
    ]);
  });

  it('refuses a passwordConnector the grant list or the connector\'s own grantTypes leave unused', () => {
    expect(problemsOf(`${passwordDB}oauth2:\n  passwordConnector: local\n  grantTypes: [authorization_code]\n`)).toEqual([
      'oauth2.passwordConnector: is set, but oauth2.grantTypes does not list password: add it, or remove passwordConnector',
    ]);
    const restricted = connectors.replace('name: Passwords,', 'name: Passwords, grantTypes: [authorization_code],');
    expect(problemsOf(`${restricted}oauth2:\n  passwordConnector: pw\n`)).toEqual([
      'connectors[1].grantTypes: does not list password, but oauth2.passwordConnector names this connector',
    ]);
  });
});
