/**
 * What the web and telemetry listeners do with web.headers, web.tlsMinVersion/tlsMaxVersion,
 * telemetry.enableProfiling, and readiness when a connector failed to open — through a real server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../helpers/free-port.js';
import { SERVER_CERT, SERVER_KEY } from '../storage/postgres-tls-fixtures.js';

let dir: string;
const running: RunningServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-web-'));
  await writeFile(path.join(dir, 'cert.pem'), SERVER_CERT);
  await writeFile(path.join(dir, 'key.pem'), SERVER_KEY);
});
afterAll(async () => {
  for (const server of running) await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(yaml: string): Promise<RunningServer> {
  const config = parseConfig(`issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\n${yaml}`, 'test.yaml', {});
  const server = await startServer(config, { logger: silentLogger(), listen: { web: '127.0.0.1:0', telemetry: '127.0.0.1:0' } });
  running.push(server);
  return server;
}

/** The TLS version the server agrees to when the client offers only `version`, or the handshake error. */
function handshake(port: number, version: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, minVersion: version, maxVersion: version, rejectUnauthorized: false, servername: 'db.idgate.test' });
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'unknown');
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
  });
}

describe('web.headers', () => {
  it('sets the configured headers on every issuer response, pages and errors included', async () => {
    const server = await serve(`web:
  http: 127.0.0.1:0
  headers:
    Strict-Transport-Security: max-age=31536000; includeSubDomains
    Content-Security-Policy: "default-src 'none'; frame-ancestors 'none'"
    X-Frame-Options: SAMEORIGIN
enablePasswordDB: true
`);
    for (const route of ['/dex/.well-known/openid-configuration', '/dex/nothing-here', '/dex/healthz']) {
      const response = await fetch(`${server.urls.web}${route}`);
      expect(response.headers.get('strict-transport-security'), route).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers.get('content-security-policy'), route).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options'), route).toBe('SAMEORIGIN');
    }
  });
});

describe('web.tlsMinVersion / tlsMaxVersion', () => {
  it('refuses a TLS 1.2 handshake with tlsMinVersion "1.3" and accepts 1.3', async () => {
    const port = await freePort();
    await serve(`web:
  https: 127.0.0.1:${port}
  tlsCert: ${path.join(dir, 'cert.pem')}
  tlsKey: ${path.join(dir, 'key.pem')}
  tlsMinVersion: "1.3"
`);
    expect(await handshake(port, 'TLSv1.2')).toMatch(/^error /);
    expect(await handshake(port, 'TLSv1.3')).toBe('TLSv1.3');
  });

  it('refuses a TLS 1.3 handshake with tlsMaxVersion "1.2"', async () => {
    const port = await freePort();
    await serve(`web:
  https: 127.0.0.1:${port}
  tlsCert: ${path.join(dir, 'cert.pem')}
  tlsKey: ${path.join(dir, 'key.pem')}
  tlsMaxVersion: "1.2"
`);
    expect(await handshake(port, 'TLSv1.3')).toMatch(/^error /);
    expect(await handshake(port, 'TLSv1.2')).toBe('TLSv1.2');
  });
});

describe('readiness', () => {
  it('is not ready, naming the connector, when a connector failed to open', async () => {
    const server = await serve(`web: { http: "127.0.0.1:0" }
connectors:
  - type: mockCallback
    id: mock
    name: Mock
  - type: samlExperimental
    id: corp-saml
    name: Corp
    config:
      ssoURL: https://idp.example/sso
      caData: bm90IGEgY2VydGlmaWNhdGU=
      redirectURI: http://127.0.0.1:5556/dex/callback
      usernameAttr: name
      emailAttr: email
`);
    const response = await fetch(`${server.urls.telemetry}/healthz/ready`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: Record<string, string> };
    expect(body.checks.storage).toBe('ok');
    expect(body.checks.connectors).toMatch(/^failed to open: corp-saml\b/);
  });

  it('is ready when every connector opened', async () => {
    const server = await serve('web: { http: "127.0.0.1:0" }\nconnectors: [{ type: mockCallback, id: mock, name: Mock }]\n');
    const response = await fetch(`${server.urls.telemetry}/healthz/ready`);
    expect(response.status).toBe(200);
  });
});

describe('telemetry.enableProfiling', () => {
  it('serves no profiles by default', async () => {
    const server = await serve('web: { http: "127.0.0.1:0" }\n');
    expect((await fetch(`${server.urls.telemetry}/debug/profile/cpu?seconds=1`)).status).toBe(404);
    expect((await fetch(`${server.urls.telemetry}/debug/profile/heap`)).status).toBe(404);
  });

  it('serves a bounded CPU profile and a heap snapshot when enabled, one at a time', async () => {
    const server = await serve('web: { http: "127.0.0.1:0" }\ntelemetry: { enableProfiling: true }\n');
    const base = server.urls.telemetry!;
    expect((await fetch(`${base}/debug/profile/cpu?seconds=61`)).status).toBe(400);
    expect((await fetch(`${base}/debug/profile/cpu?seconds=abc`)).status).toBe(400);

    const pending = fetch(`${base}/debug/profile/cpu?seconds=1`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const busy = await fetch(`${base}/debug/profile/cpu?seconds=1`);
    expect(busy.status).toBe(409);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(/\.cpuprofile"/);
    const profile = (await response.json()) as { nodes: unknown[]; startTime: number; endTime: number };
    expect(profile.nodes.length).toBeGreaterThan(0);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(900_000); // microseconds

    const heap = await fetch(`${base}/debug/profile/heap`);
    expect(heap.status).toBe(200);
    expect(heap.headers.get('content-disposition')).toMatch(/\.heapsnapshot"/);
    expect((await heap.text()).slice(0, 20)).toMatch(/^\{"snapshot":/);
  });
});
