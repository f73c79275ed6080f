/**
 * The idgate command: `check` reports config problems with paths, `serve` runs a Dex config.yaml
 * unchanged in a real child process and stops gracefully on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
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
