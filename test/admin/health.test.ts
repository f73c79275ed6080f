/**
 * `idgate health --config FILE`, the container health check: it asks /healthz/ready at the telemetry
 * address the config names (never a port of its own), exits 0 only on idgate's own "ready" answer, and
 * says in one line why it did not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readinessURL } from '../../src/admin/health.js';
import { main } from '../../src/cli.js';
import { startServer, createTelemetryApp, type ReadinessChecks, type RunningServer } from '../../src/server.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../helpers/free-port.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

let dir: string;
const servers: http.Server[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idgate-health-'));
});
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

/** A config file whose telemetry listener is at `listen`. */
async function configFile(name: string, telemetry: string | undefined): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  const lines = ['issuer: http://127.0.0.1:5556/dex', 'storage: { type: memory }', 'web: { http: "127.0.0.1:0" }'];
  if (telemetry) lines.push(`telemetry: { http: "${telemetry}" }`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function telemetryWith(readiness: ReadinessChecks): Promise<number> {
  return serve(createTelemetryApp(new Registry(), readiness).callback());
}

describe('idgate health', () => {
  it('exits 0 when the idgate serving the config is ready, naming its checks', async () => {
    const port = await freePort();
    const file = await configFile('ready', `127.0.0.1:${port}`);
    const running: RunningServer = await startServer(parseConfig(`issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\nweb: { http: "127.0.0.1:0" }\ntelemetry: { http: "127.0.0.1:${port}" }\n`), { logger: silentLogger() });
    try {
      const { out, io } = capture();
      expect(await main(['health', '--config', file], io)).toBe(0);
      expect(out.stdout).toBe(`http://127.0.0.1:${port}/healthz/ready: ready (storage ok)\n`);
      expect(out.stderr).toBe('');
    } finally {
      await running.close();
    }
  });

  it('exits 1 when it is not ready, with the failing checks and their reasons', async () => {
    const port = await telemetryWith({ storage: () => Promise.reject(new Error('connection refused by 10.0.0.5:5432')), filter: async () => undefined });
    const { out, io } = capture();
    expect(await main(['health', '--config', await configFile('not-ready', `127.0.0.1:${port}`)], io)).toBe(1);
    expect(out.stderr).toBe(`http://127.0.0.1:${port}/healthz/ready: not ready (HTTP 503; storage: connection refused by 10.0.0.5:5432)\n`);
  });

  it('exits 1 when nothing listens at the configured telemetry address', async () => {
    const port = await freePort();
    const { out, io } = capture();
    expect(await main(['health', '--config', await configFile('unreachable', `0.0.0.0:${port}`)], io)).toBe(1);
    expect(out.stderr).toBe(`http://127.0.0.1:${port}/healthz/ready: unreachable (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  });

  it('exits 1 when the listener does not answer within --timeout', async () => {
    const port = await serve(() => undefined); // accepts, never answers
    const { out, io } = capture();
    expect(await main(['health', '--config', await configFile('silent', `127.0.0.1:${port}`), '--timeout', '0.2'], io)).toBe(1);
    expect(out.stderr).toBe(`http://127.0.0.1:${port}/healthz/ready: unreachable (no answer within 0.2 s)\n`);
  });

  it("exits 1 when something other than idgate's telemetry listener answers 200", async () => {
    const port = await serve((_, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    const { out, io } = capture();
    expect(await main(['health', '--config', await configFile('other', `127.0.0.1:${port}`)], io)).toBe(1);
    expect(out.stderr).toBe(`http://127.0.0.1:${port}/healthz/ready: HTTP 200, not an idgate readiness answer\n`);
  });

  it('exits 1 when the config has no telemetry listener', async () => {
    const file = await configFile('no-telemetry', undefined);
    const { out, io } = capture();
    expect(await main(['health', '--config', file], io)).toBe(1);
    expect(out.stderr).toBe(`${file}: telemetry.http is not set, so nothing serves /healthz/ready\n`);
  });

  it('exits 1 with the config path and reason when the config is invalid', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\ntelemetry: { http: "localhost" }\nweb: { http: "127.0.0.1:0" }\n');
    const { out, io } = capture();
    expect(await main(['health', '--config', file], io)).toBe(1);
    expect(out.stderr).toContain('telemetry.http: not a listen address');
  });

  it('exits 2 on a usage error', async () => {
    for (const args of [[], ['--config'], ['--config', 'x.yaml', '--timeout', '0'], ['--config', 'x.yaml', '--timeout', 'soon'], ['--config', 'x.yaml', 'extra'], ['--port', '5558']]) {
      const { out, io } = capture();
      expect(await main(['health', ...args], io), args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(/^idgate health: .*\n\nUsage: idgate health --config FILE/);
    }
  });
});

describe('readinessURL', () => {
  it.each([
    ['0.0.0.0:5558', 'http://127.0.0.1:5558/healthz/ready'],
    [':5558', 'http://127.0.0.1:5558/healthz/ready'],
    ['[::]:5558', 'http://[::1]:5558/healthz/ready'],
    ['127.0.0.1:5558', 'http://127.0.0.1:5558/healthz/ready'],
    ['10.1.2.3:9000', 'http://10.1.2.3:9000/healthz/ready'],
    ['[fd00::1]:5558', 'http://[fd00::1]:5558/healthz/ready'],
  ])('asks %s at %s', (listen, url) => {
    expect(readinessURL(listen)).toBe(url);
  });
});
