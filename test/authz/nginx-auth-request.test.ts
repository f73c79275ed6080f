/**
 * nginx auth_request in front of a small upstream, with idgate's /nginx endpoint, using the config
 * exactly as docs/integrations/nginx.md prints it (read from the page; only the ports are substituted):
 * the ordinary outcomes (401, 403, 200 with identity headers and the token stripped), and everything a
 * client may try to forge through nginx: the path, the client IP, the host, the peer identity, and
 * claims that cannot go into a header as they are.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { nginxAvailable, startNginx, type RunningNginx } from './helpers/nginx.js';
import { guideBlock, rawRequest, substitute } from './helpers/proxy-guide.js';
import { jwksOf, mint, tamper, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';

function policies(jwks: string) {
  return {
    'shop.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: shop }
spec:
  jwtRules: [{ issuer: "${ISS}", jwks: ${JSON.stringify(jwks)} }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: shop, namespace: shop }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { methods: [GET], paths: ["/orders/*"] } }]
    when: [{ key: "request.auth.claims[groups]", values: [staff] }]
  - to: [{ operation: { paths: ["/static/*"] } }]
  - from: [{ source: { remoteIpBlocks: ["203.0.113.0/24"] } }]
    to: [{ operation: { paths: ["/office/*"] } }]
  - to: [{ operation: { hosts: ["admin.example.com"], paths: ["/host/*"] } }]
  - from: [{ source: { principals: ["cluster.local/ns/admin/sa/ops"] } }]
    to: [{ operation: { paths: ["/ops/*"] } }]
`,
  };
}

/** The guide's config with its ports replaced by the test's own (and nothing else). */
function withPorts(block: string, ports: { nginx: number; idgate: number; upstream: number }): string {
  return substitute(block, [
    ['server 127.0.0.1:9192;', `server 127.0.0.1:${ports.idgate};`],
    ['listen 80;', `listen 127.0.0.1:${ports.nginx};`],
    ['proxy_pass http://backend;', `proxy_pass http://127.0.0.1:${ports.upstream};`],
  ]);
}

describe('nginx auth_request, configured as docs/integrations/nginx.md says', () => {
  let key: TestKey;
  let fixture: FilterFixture;
  let nginx: RunningNginx;
  let upstream: http.Server;
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];

  beforeAll(async () => {
    // Never skipped: a missing nginx is a broken test machine, and .ci/run installs it.
    if (!nginxAvailable()) throw new Error('/usr/sbin/nginx is missing: install Debian\'s nginx (apt-get install nginx), as .ci/run does');
    key = await testKey('k1');
    fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { challengeAnonymous: true });
    upstream = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const block = await guideBlock('nginx.md', 'nginx');
    nginx = await startNginx((port) => withPorts(block, { nginx: port, idgate: fixture.filter.httpPort!, upstream: upstreamPort }));
  });

  afterAll(async () => {
    await nginx?.stop();
    if (upstream) await new Promise((resolve) => upstream.close(resolve));
    await fixture?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => {
    seen.length = 0;
    return rawRequest(nginx.port, 'GET', path, headers);
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const lastAudit = () => JSON.parse(fixture.audit[fixture.audit.length - 1]!) as Record<string, unknown>;

  it('answers 401 with a Bearer challenge without a token (challengeAnonymous)', async () => {
    const response = await get('/orders/1');
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/orders\/1"$/);
  });

  it('answers 401 with WWW-Authenticate for a bad token', async () => {
    const token = tamper(await mint(key, { iss: ISS, sub: 'alice', groups: ['staff'] }), { iss: ISS, sub: 'mallory', groups: ['staff'] });
    const response = await get('/orders/1', bearer(token));
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toContain('error="invalid_token"');
  });

  it('answers 401 for an expired token', async () => {
    expect((await get('/orders/1', bearer(await mint(key, { iss: ISS, sub: 'alice', groups: ['staff'] }, { expiresIn: -3600 })))).status).toBe(401);
  });

  it('answers 403 when the policy does not allow the request', async () => {
    expect((await get('/orders/1', bearer(await mint(key, { iss: ISS, sub: 'bob', groups: ['guests'] })))).status).toBe(403);
  });

  it('lets an allowed request through with identity headers and without the token', async () => {
    const response = await get('/orders/1?x=1', bearer(await mint(key, { iss: ISS, sub: 'alice', groups: ['staff', 'ops'] })));
    expect(response).toMatchObject({ status: 200, body: 'upstream ok' });
    expect(seen[0]!.headers).toMatchObject({ 'x-idgate-request-principal': `${ISS}/alice`, 'x-idgate-groups': 'staff,ops' });
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(lastAudit()).toMatchObject({ transport: 'nginx', method: 'GET', path: '/orders/1', decision: 'allow', sourceIp: '127.0.0.1', namespace: 'shop' });
  });

  it.each(['/static/%2e%2e/orders/1', '/static/%2E%2E/orders/1', '/static/.%2e/orders/1'])('decides %s on the path the upstream serves (/orders/1), not as a /static/ path', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(401);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ path: '/orders/1', decision: 'deny' });
    expect((await get('/static/app.js')).status).toBe(200);
  });

  it('refuses an escaped slash it cannot interpret the way the upstream will (nginx shows it as 500)', async () => {
    const response = await get('/static/..%2forders/1');
    expect(response.status).toBe(500);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ status: 400, reason: 'invalid_path' });
  });

  it('does not take the client IP from a client-written X-Forwarded-For', async () => {
    expect((await get('/office/report', { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.7' })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ sourceIp: '127.0.0.1', reason: 'no_allow_match' });
  });

  it('does not take the host from a client-sent X-Forwarded-Host', async () => {
    expect((await get('/host/x', { 'x-forwarded-host': 'admin.example.com' })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ host: `127.0.0.1:${nginx.port}` });
    expect((await get('/host/x', { host: 'admin.example.com' })).status).toBe(200);
  });

  it('does not believe a client-forged X-Forwarded-Client-Cert', async () => {
    const forged = 'By=spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway;URI=spiffe://cluster.local/ns/admin/sa/ops';
    expect((await get('/ops/run', { 'x-forwarded-client-cert': forged })).status).toBe(401);
    expect(lastAudit().peerPrincipal).toBeUndefined();
  });

  it('passes claims outside Latin-1 upstream encoded, and keeps answering', async () => {
    const token = await mint(key, { iss: ISS, sub: 'łukasz', groups: ['staff', 'Łukasz', '李', '😀'] });
    expect((await get('/orders/2', bearer(token))).status).toBe(200);
    expect(seen[0]!.headers['x-idgate-groups']).toBe("UTF-8''staff%2C%C5%81ukasz%2C%E6%9D%8E%2C%F0%9F%98%80");
    expect(seen[0]!.headers['x-idgate-request-principal']).toBe("UTF-8''https%3A%2F%2Fissuer.example%2F%C5%82ukasz");
    expect((await get('/static/app.js')).status).toBe(200);
  });
});
