/**
 * nginx auth_request in front of a small upstream, with idgate's /nginx endpoint, using the config
 * from docs/integrations/nginx.md (with challengeAnonymous): no token 401, bad token 401 (with WWW-Authenticate), forbidden 403,
 * allowed 200 with identity headers reaching the upstream and the token stripped.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { nginxAvailable, startNginx, type RunningNginx } from './helpers/nginx.js';
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
metadata: { name: staff, namespace: shop }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { methods: [GET], paths: ["/orders/*"] } }]
    when: [{ key: "request.auth.claims[groups]", values: [staff] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: shop }
spec:
  action: DENY
  rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }]
`,
  };
}

describe('nginx auth_request', () => {
  let key: TestKey;
  let fixture: FilterFixture;
  let nginx: RunningNginx;
  let upstream: http.Server;
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    // Never skipped: a missing nginx is a broken test machine, and .ci/run installs it.
    if (!nginxAvailable()) throw new Error('/usr/sbin/nginx is missing: install Debian\'s nginx (apt-get install nginx), as .ci/run does');
    key = await testKey('k1');
    fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { challengeAnonymous: true });
    upstream = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    nginx = await startNginx((port) => `
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_idgate;
      auth_request_set $idgate_principal $upstream_http_x_idgate_request_principal;
      auth_request_set $idgate_groups $upstream_http_x_idgate_groups;
      proxy_set_header X-Idgate-Request-Principal $idgate_principal;
      proxy_set_header X-Idgate-Groups $idgate_groups;
      proxy_set_header Authorization "";
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
    location = /_idgate {
      internal;
      proxy_pass http://127.0.0.1:${fixture.filter.httpPort}/nginx?namespace=shop;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Request-ID $request_id;
    }
  }`);
  });

  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    await fixture?.close();
  });

  const get = async (path: string, token?: string) => {
    const response = await fetch(`http://127.0.0.1:${nginx.port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: await response.text() };
  };

  it('answers 401 with a Bearer challenge without a token (challengeAnonymous)', async () => {
    const response = await get('/orders/1');
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/orders\/1"$/);
  });

  it('answers 401 with WWW-Authenticate for a bad token', async () => {
    const token = tamper(await mint(key, { iss: ISS, sub: 'alice', groups: ['staff'] }), { iss: ISS, sub: 'mallory', groups: ['staff'] });
    const response = await get('/orders/1', token);
    expect(response.status).toBe(401);
    expect(response.wwwAuthenticate).toContain('error="invalid_token"');
  });

  it('answers 401 for an expired token', async () => {
    expect((await get('/orders/1', await mint(key, { iss: ISS, sub: 'alice', groups: ['staff'] }, { expiresIn: -3600 }))).status).toBe(401);
  });

  it('answers 403 when the policy does not allow the request', async () => {
    expect((await get('/orders/1', await mint(key, { iss: ISS, sub: 'bob', groups: ['guests'] }))).status).toBe(403);
  });

  it('lets an allowed request through with identity headers and without the token', async () => {
    seen.length = 0;
    const response = await get('/orders/1?x=1', await mint(key, { iss: ISS, sub: 'alice', groups: ['staff', 'ops'] }));
    expect(response).toMatchObject({ status: 200, body: 'upstream ok' });
    expect(seen[0]).toMatchObject({ 'x-idgate-request-principal': `${ISS}/alice`, 'x-idgate-groups': 'staff,ops' });
    expect(seen[0]!.authorization).toBeUndefined();
    const line = JSON.parse(fixture.audit[fixture.audit.length - 1]!) as Record<string, unknown>;
    expect(line).toMatchObject({ transport: 'nginx', method: 'GET', path: '/orders/1', decision: 'allow', sourceIp: '127.0.0.1' });
  });
});
