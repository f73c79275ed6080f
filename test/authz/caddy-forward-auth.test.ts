/**
 * Caddy forward_auth in front of a small upstream, with idgate's /traefik endpoint, using the Caddyfile
 * exactly as docs/integrations/caddy.md prints it (read from the page; only the addresses are
 * substituted): the ordinary outcomes (401, 403, 200 with identity headers and the token stripped),
 * and everything a client may try to forge through Caddy: the method, path, host, client IP, peer
 * identity and identity headers, and claims that cannot go into a header as they are.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { caddyAvailable, startCaddy, type RunningCaddy } from './helpers/caddy.js';
import { httpCheck } from './helpers/http-client.js';
import { guideBlock, rawRequest, substitute } from './helpers/proxy-guide.js';
import { jwksOf, mint, tamper, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const HOST = 'shop.example.com';
const GATEWAY = 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway';
const FORGED_XFCC = `By=${GATEWAY};URI=spiffe://cluster.local/ns/admin/sa/ops`;

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
  - from: [{ source: { remoteIpBlocks: ["127.0.0.1/32"] } }]
    to: [{ operation: { paths: ["/local/*"] } }]
  - to: [{ operation: { hosts: ["admin.example.com"], paths: ["/admin-host/*"] } }]
  - to: [{ operation: { hosts: ["${HOST}"], paths: ["/shop-host/*"] } }]
  - from: [{ source: { principals: ["cluster.local/ns/admin/sa/ops"] } }]
    to: [{ operation: { paths: ["/ops/*"] } }]
`,
  };
}

/** The guide's Caddyfile with its addresses replaced by the test's own (and nothing else). */
function withAddresses(block: string, ports: { caddy: number; idgate: number; upstream: number }): string {
  return substitute(block, [
    [`${HOST} {`, `http://${HOST}:${ports.caddy} {`],
    ['forward_auth idgate:9192 {', `forward_auth 127.0.0.1:${ports.idgate} {`],
    ['reverse_proxy shop:8080', `reverse_proxy 127.0.0.1:${ports.upstream}`],
  ]);
}

describe('Caddy forward_auth, configured as docs/integrations/caddy.md says', () => {
  let key: TestKey;
  let fixture: FilterFixture;
  let caddy: RunningCaddy;
  let upstream: http.Server;
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];

  beforeAll(async () => {
    // Never skipped: a missing Caddy is a broken test machine, and .ci/run installs it.
    if (!caddyAvailable()) throw new Error('/usr/bin/caddy is missing: install Debian\'s caddy (apt-get install caddy), as .ci/run does');
    key = await testKey('k1');
    fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), {
      challengeAnonymous: true,
      // Believe one hop left of Caddy's entry, so a client X-Forwarded-For that Caddy kept would be believed.
      numTrustedProxies: 1,
      // Believe an XFCC set by GATEWAY, so a client XFCC that reached idgate would be believed.
      xfcc: { trustedBy: [GATEWAY], forwardClientCertDetails: 'SANITIZE_SET' },
    });
    upstream = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const block = await guideBlock('caddy.md', 'caddyfile');
    caddy = await startCaddy((port) => withAddresses(block, { caddy: port, idgate: fixture.filter.httpPort!, upstream: upstreamPort }));
  });

  afterAll(async () => {
    await caddy?.stop();
    // Not started when beforeAll threw early (no Caddy): a close that never calls back would hang the hook.
    if (upstream) await new Promise((resolve) => upstream.close(resolve));
    await fixture?.close();
  });

  const send = (method: string, path: string, headers: Record<string, string> = {}) => {
    seen.length = 0;
    return rawRequest(caddy.port, method, path, { host: HOST, ...headers });
  };
  const get = (path: string, headers: Record<string, string> = {}) => send('GET', path, headers);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const staffToken = () => mint(key, { iss: ISS, sub: 'alice', groups: ['staff', 'ops'] });
  const lastAudit = () => JSON.parse(fixture.audit[fixture.audit.length - 1]!) as Record<string, unknown>;

  it('answers 401 with a Bearer challenge without a token (challengeAnonymous)', async () => {
    const response = await get('/orders/1');
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toBe(`Bearer realm="http://${HOST}/orders/1"`);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ transport: 'traefik', status: 401, decision: 'deny' });
  });

  it('answers 401 and passes idgate\'s WWW-Authenticate to the client for a bad token', async () => {
    const token = tamper(await mint(key, { iss: ISS, sub: 'alice', groups: ['staff'] }), { iss: ISS, sub: 'mallory', groups: ['staff'] });
    const response = await get('/orders/1', bearer(token));
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toContain('error="invalid_token"');
    expect(seen).toHaveLength(0);
  });

  it('answers 403 when the policy does not allow the request', async () => {
    const response = await get('/orders/1', bearer(await mint(key, { iss: ISS, sub: 'bob', groups: ['guests'] })));
    expect(response.status).toBe(403);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ decision: 'deny', reason: 'no_allow_match' });
  });

  it('lets an allowed request through with identity headers, spoofed ones replaced, and without the token', async () => {
    const spoofed = {
      'x-idgate-request-principal': 'https://evil.example/root',
      'x-idgate-subject': 'root',
      'x-idgate-groups': 'admins',
      'x-idgate-peer-principal': 'cluster.local/ns/admin/sa/ops',
      'x-idgate-issuer': 'https://evil.example',
      'x-request-id': 'chosen-by-client',
    };
    const response = await get('/orders/1?x=1', { ...bearer(await staffToken()), ...spoofed });
    expect(response).toMatchObject({ status: 200, body: 'upstream ok' });
    const headers = seen[0]!.headers;
    expect(seen[0]!.url).toBe('/orders/1?x=1');
    expect(headers).toMatchObject({ 'x-idgate-request-principal': `${ISS}/alice`, 'x-idgate-subject': 'alice', 'x-idgate-groups': 'staff,ops' });
    // idgate sent no peer principal: neither the client's value nor Caddy 2.6's literal placeholder arrives.
    expect(headers['x-idgate-peer-principal']).toBeUndefined();
    // Not in copy_headers: only `request_header -X-Idgate-*` keeps the client's value out.
    expect(headers['x-idgate-issuer']).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
    const audit = lastAudit();
    expect(audit).toMatchObject({ transport: 'traefik', method: 'GET', path: '/orders/1', host: HOST, decision: 'allow', sourceIp: '127.0.0.1', namespace: 'shop' });
    expect(audit.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['x-request-id']).toBe(audit.requestId);
  });

  it('sends no identity header upstream for an anonymous allow, whatever the client sent', async () => {
    const response = await get('/static/app.js', { 'x-idgate-request-principal': `${ISS}/alice`, 'x-idgate-groups': 'staff' });
    expect(response.status).toBe(200);
    expect(Object.keys(seen[0]!.headers).filter((name) => name.startsWith('x-idgate-'))).toEqual([]);
  });

  it('decides on the method the client used, not a client-sent X-Forwarded-Method', async () => {
    const response = await send('POST', '/orders/1', { ...bearer(await staffToken()), 'x-forwarded-method': 'GET' });
    expect(response.status).toBe(403);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ method: 'POST', path: '/orders/1', reason: 'no_allow_match' });
  });

  it('decides on the path the client asked for, not a client-sent X-Forwarded-Uri', async () => {
    const response = await get('/orders/1', { 'x-forwarded-uri': '/static/app.js' });
    expect(response.status).toBe(401);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ path: '/orders/1', reason: 'no_allow_match' });
  });

  it('decides on the Host Caddy received, not a client-sent X-Forwarded-Host', async () => {
    expect((await get('/admin-host/x', { 'x-forwarded-host': 'admin.example.com' })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ host: HOST, reason: 'no_allow_match' });
    expect((await get('/shop-host/x', { 'x-forwarded-host': 'admin.example.com' })).status).toBe(200);
    expect(lastAudit()).toMatchObject({ host: HOST, decision: 'allow' });
  });

  it('does not take the client IP from a client-written X-Forwarded-For', async () => {
    const forged = { 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.7' };
    expect((await get('/office/report', forged)).status).toBe(401);
    expect(lastAudit()).toMatchObject({ sourceIp: '127.0.0.1', reason: 'no_allow_match' });
    // remote.ip is still 127.0.0.1: the forged entry would have made this a deny.
    expect((await get('/local/report', forged)).status).toBe(200);
  });

  it('does not let a client-forged X-Forwarded-Client-Cert reach idgate', async () => {
    // Sent straight to idgate, this XFCC is believed (the filter trusts GATEWAY's By=) ...
    const direct = await httpCheck(fixture.filter.httpPort!, 'traefik', { path: '/ops/run', host: HOST, namespace: 'shop', headers: { 'x-forwarded-client-cert': FORGED_XFCC } });
    expect(direct.status).toBe(200);
    // ... so it is the guide's `request_header -X-Forwarded-Client-Cert` that keeps it out.
    expect((await get('/ops/run', { 'x-forwarded-client-cert': FORGED_XFCC })).status).toBe(401);
    expect(seen).toHaveLength(0);
    expect(lastAudit().peerPrincipal).toBeUndefined();
  });

  it.each(['/static/%2e%2e/orders/1', '/static/%2E%2E/orders/1', '/static/.%2e/orders/1'])('decides %s on the path the upstream serves (/orders/1), not as a /static/ path', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(401);
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ path: '/orders/1', decision: 'deny' });
    expect((await get('/static/app.js')).status).toBe(200);
  });

  it('passes the raw target to the upstream, as it was decided', async () => {
    expect((await get('/static/%2e%2e/orders/1', bearer(await staffToken()))).status).toBe(200);
    expect(seen[0]!.url).toBe('/static/%2e%2e/orders/1');
    expect(lastAudit()).toMatchObject({ path: '/orders/1', decision: 'allow' });
  });

  it('refuses an escaped slash it cannot interpret the way the upstream will (Caddy shows the client idgate\'s 400)', async () => {
    const response = await get('/static/..%2forders/1');
    expect(response.status).toBe(400);
    expect(response.body).toBe('invalid request path: an escaped slash or a backslash in a raw request target is ambiguous');
    expect(seen).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ status: 400, reason: 'invalid_path' });
  });

  it('passes claims outside Latin-1 upstream RFC 8187-encoded, and keeps answering', async () => {
    const token = await mint(key, { iss: ISS, sub: 'łukasz', groups: ['staff', 'Łukasz', '李', '😀'] });
    expect((await get('/orders/2', bearer(token))).status).toBe(200);
    expect(seen[0]!.headers['x-idgate-groups']).toBe("UTF-8''staff%2C%C5%81ukasz%2C%E6%9D%8E%2C%F0%9F%98%80");
    expect(seen[0]!.headers['x-idgate-request-principal']).toBe("UTF-8''https%3A%2F%2Fissuer.example%2F%C5%82ukasz");
    expect(seen[0]!.headers['x-idgate-subject']).toBe("UTF-8''%C5%82ukasz");
    expect((await get('/static/app.js')).status).toBe(200);
  });
});
