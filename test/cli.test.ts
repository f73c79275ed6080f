/**
 * The idgate command: `check` reports config problems with paths, `serve` runs a Dex config.yaml
 * unchanged in a real child process and stops gracefully on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { freePort } from './helpers/free-port.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('idgate check', () => {
  it('accepts the embedded default config', async () => {
    const { out, io } = capture();
    expect(await main(['check', '--config', 'config/idgate.yaml'], io)).toBe(0);
    expect(out.stdout).toMatch(/config\/idgate\.yaml: OK \(issuer http:\/\/127\.0\.0\.1:5556\/dex, storage sqlite3, 1 static client\(s\), 2 connector\(s\), filter enabled\)/);
  });

  it('lists each problem with its path and exits 1', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'issuer: http://127.0.0.1:5556/dex\nstorage: {type: sqlite3, config: {file: x.db}}\nweb: {http: "127.0.0.1:5556", tlsCrt: x}\n');
    const { out, io } = capture();
    expect(await main(['check', '--config', file], io)).toBe(1);
    expect(out.stderr).toContain('web.tlsCrt: unknown key (did you mean "tlsCert"?) (line 3)');
  });

  it('says so when the file does not exist', async () => {
    const { out, io } = capture();
    expect(await main(['check', '--config', path.join(dir, 'missing.yaml')], io)).toBe(1);
    expect(out.stderr).toMatch(/missing\.yaml: invalid configuration\n {2}file not found/);
  });

  it('requires --config', async () => {
    const { out, io } = capture();
    expect(await main(['check'], io)).toBe(2);
    expect(out.stderr).toContain('--config FILE is required');
  });

  it('refuses an unknown command with the usage', async () => {
    const { out, io } = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(out.stderr).toContain('unknown command "frobnicate"');
    expect(out.stderr).toContain('Usage: idgate');
  });
});

describe('idgate serve', () => {
  it('runs a Dex config.yaml unchanged and stops on SIGTERM', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const telemetry = await freePort();
    const template = await readFile('test/fixtures/dex-config.yaml', 'utf8');
    const file = path.join(dir, 'dex.yaml');
    await writeFile(file, template.replaceAll('__PORT__', String(port)).replaceAll('__TELEMETRY__', String(telemetry)).replace('__DB__', path.join(dir, 'dex.db')));
    // src/cli.ts only exports main (bin/idgate.js calls it on the built output), so call it the same way.
    const runCli = "const { main } = await import('./src/cli.ts'); process.exitCode = await main(process.argv.slice(1));";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runCli, 'serve', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const discovery = await poll(`http://127.0.0.1:${port}/dex/.well-known/openid-configuration`, () => output);
      expect(discovery.issuer).toBe(`http://127.0.0.1:${port}/dex`);
      const ready = await fetch(`http://127.0.0.1:${telemetry}/healthz/ready`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${telemetry}/metrics`)).text();
      expect(metrics).toContain('idgate_http_requests_total{route="/.well-known/openid-configuration",method="GET",status="200"} 1');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).not.toContain('ZXhhbXBsZS1hcHAtc2VjcmV0');
  });
});

async function poll(url: string, logs: () => string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return (await response.json()) as Record<string, unknown>;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer; output:\n${logs()}`);
}

describe('idgate authz explain', () => {
  it('explains a request with the embedded config\'s filter section, through serve\'s pipeline', async () => {
    const { out, io } = capture();
    const claims = JSON.stringify({ iss: 'http://127.0.0.1:5556/dex', sub: 'alice' });
    expect(await main(['authz', 'explain', '--config', 'config/idgate.yaml', '--namespace', 'shop', '--path', '/api/../admin', '--claims', claims], io)).toBe(0);
    expect(out.stdout).toContain('path: /api/../admin -> /admin');
    expect(out.stdout).toContain('token: claims assumed, signature NOT verified: issuer http://127.0.0.1:5556/dex, jwtRule issuer');
  });

  it('prints its usage on --help', async () => {
    const { out, io } = capture();
    expect(await main(['authz', 'explain', '--help'], io)).toBe(0);
    expect(out.stdout).toContain('--claims JSON');
    expect(out.stdout).toContain('--mode grpc|envoy-http|nginx|traefik');
  });
});

describe('idgate validate', () => {
  const CLEAN = 'test/admin/validate/fixtures/clean';
  const CONFIG = 'test/admin/validate/fixtures/idgate.yaml';
  const policy = async (name: string, spec: string) => {
    const file = path.join(dir, `validate-${name}.yaml`);
    await writeFile(file, `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: a }\nspec: ${spec}\n`);
    return file;
  };

  it('exits 0 on the clean fixture set and says what it read', async () => {
    const { out, io } = capture();
    expect(await main(['validate', '--offline', '--config', CONFIG, CLEAN], io)).toBe(0);
    expect(out.stdout).toBe('3 file(s), 15 object(s): 0 error(s), 0 warning(s), 0 info\nnote: skipped IDG0101: --offline\n');
  });

  it('exits by the worst severity: 1 for an error, 3 for warnings only, 0 for info only', async () => {
    const error = await policy('refused', '{ targetRefs: [{ kind: Gateway, name: gw }], rules: [{ to: [{ operation: { paths: ["/x"] } }] }] }');
    const warning = await policy('fetch', '{ rules: [{ to: [{ operation: { methods: [FETCH] } }] }] }');
    const info = await policy('deny-all', '{}');
    for (const [files, code, pattern] of [[[error, warning], 1, /error IDG0502/], [[warning], 3, /warning KIA0102/], [[info], 0, /info IDG0202/]] as const) {
      const { out, io } = capture();
      expect(await main(['validate', '--offline', ...files], io)).toBe(code);
      expect(out.stdout).toMatch(pattern);
    }
  });

  it('writes JSON Lines with --format json (notes on stderr) and a SARIF log with --format sarif', async () => {
    const warning = await policy('fetch2', '{ rules: [{ to: [{ operation: { methods: [FETCH] } }] }] }');
    const json = capture();
    expect(await main(['validate', '--offline', '--format', 'json', warning], json.io)).toBe(3);
    expect(JSON.parse(json.out.stdout)).toMatchObject({ code: 'KIA0102', severity: 'warning', file: warning, kind: 'AuthorizationPolicy', name: 'fetch2', namespace: 'a' });
    expect(json.out.stderr).toContain('note: skipped IDG0101: --offline');
    const sarif = capture();
    expect(await main(['validate', '--offline', '--format', 'sarif', warning], sarif.io)).toBe(3);
    const log = JSON.parse(sarif.out.stdout) as { version: string; runs: Array<{ tool: { driver: { name: string; version?: string } }; results: Array<{ ruleId: string }> }> };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]!.tool.driver).toMatchObject({ name: 'idgate validate', version: '0.1.0' });
    expect(log.runs[0]!.results.map((r) => r.ruleId)).toEqual(['KIA0102']);
  });

  it('exits 2 on bad arguments', async () => {
    for (const args of [['validate'], ['validate', '--format', 'xml', CLEAN], ['validate', '--bogus', CLEAN], ['validate', '--path-normalization', 'SOME', CLEAN]]) {
      const { out, io } = capture();
      expect(await main(args, io), args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(/^idgate validate: /);
    }
  });

  it('is listed in the usage, and `authz check` stays Istio\'s structural validation', async () => {
    const usage = capture();
    expect(await main(['--help'], usage.io)).toBe(0);
    expect(usage.out.stdout).toMatch(/validate FILE\|DIR\.\.\. +Kiali's checks/);
    const check = capture();
    const warning = await policy('fetch3', '{ rules: [{ to: [{ operation: { methods: [FETCH] } }] }] }');
    expect(await main(['authz', 'check', warning], check.io)).toBe(0);
    expect(check.out.stdout).toContain('Only HTTP methods and Istio wildcards are allowed (KIA0102)');
  });
});
