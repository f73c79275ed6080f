/**
 * The embedded default setup (config/idgate.yaml with config/policies/istio) follows the configured
 * issuer: the policies pin no issuer of their own, so with `issuer` changed the filter still verifies
 * that issuer's tokens (in-process) and the README's quick-start request is still a 403.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { loadPolicyFiles } from '../../src/authz/policy/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../helpers/free-port.js';

let server: RunningServer;
let issuer: string;
let filterHttp: string;

beforeAll(async () => {
  const [webPort, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${webPort}/sso`;
  const text = (await readFile('config/idgate.yaml', 'utf8'))
    .replace('issuer: http://127.0.0.1:5556/dex', `issuer: ${issuer}`)
    .replace(/storage:\n {2}type: sqlite3\n {2}config:\n {4}file: .*\n/, 'storage:\n  type: memory\n')
    .replace('grpc: 127.0.0.1:9191', `grpc: 127.0.0.1:${grpcPort}`)
    .replace('http: 127.0.0.1:9192', `http: 127.0.0.1:${httpPort}`);
  expect(text).toContain(`issuer: ${issuer}`);
  expect(text).toContain('type: memory');
  server = await startServer(parseConfig(text, 'idgate.yaml', {}), { logger: silentLogger(), listen: { web: `127.0.0.1:${webPort}`, telemetry: '127.0.0.1:0' } });
  filterHttp = server.urls.filterHttp!;
});
afterAll(() => server?.close());

function nginx(path: string, token?: string) {
  return fetch(`${filterHttp}/nginx?namespace=shop`, {
    headers: {
      'X-Original-Method': 'GET',
      'X-Original-URL': `http://shop.example.com${path}`,
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
  });
}

describe('the default setup', () => {
  it('has policies that name no issuer of their own (the filter adds the configured one)', async () => {
    const loaded = await loadPolicyFiles(['config/policies/istio'], { rootNamespace: 'istio-system' });
    expect(loaded.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(JSON.stringify(loaded.resources)).not.toContain('127.0.0.1:5556');
  });

  it('still answers the README request without a token with 403', async () => {
    expect((await nginx('/api/orders')).status).toBe(403);
  });

  it('verifies tokens of the configured issuer, whatever it is', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (groups: string[]) => server.issuer!.context.signer.sign(
      { iss: issuer, sub: 'alice', aud: 'example-app', iat: now, exp: now + 300, groups },
      { typ: 'at+jwt' },
    );
    expect((await nginx('/api/orders', await sign(['shop-staff']))).status).toBe(200);
    expect((await nginx('/api/orders', await sign(['guests']))).status).toBe(403);
  });
});
