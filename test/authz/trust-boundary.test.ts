/**
 * What the filter believes about a request, and from whom: client IP (numTrustedProxies, from the
 * right), host (only what the proxy sets), peer identity (XFCC only from a proxy configured to
 * overwrite it), headers sent as header_map, the target workload behind Istio's CUSTOM provider, and
 * identity headers that cannot break a response (or the process) whatever the token's claims hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, checkRequest, outcomeOf } from './helpers/grpc-client.js';
import { httpCheck, type HttpMode } from './helpers/http-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const GATEWAY = 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway';
const MODES: HttpMode[] = ['envoy-http', 'nginx', 'traefik'];

function policies(jwks: string): Record<string, string> {
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "${ISS}", jwks: ${JSON.stringify(jwks)} }]
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: edge, namespace: default }
spec:
  rules:
  - from: [{ source: { remoteIpBlocks: ["203.0.113.0/24"] } }]
    to: [{ operation: { paths: ["/office/*"] } }]
  - from: [{ source: { ipBlocks: ["198.51.100.0/24"] } }]
    to: [{ operation: { paths: ["/peer-ip/*"] } }]
  - to: [{ operation: { hosts: ["public.example.com"], paths: ["/host/*"] } }]
  - from: [{ source: { principals: ["cluster.local/ns/admin/sa/ops"] } }]
    to: [{ operation: { paths: ["/ops/*"] } }]
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/me/*"] } }]
  - to: [{ operation: { paths: ["/debug/*"] } }]
    when: [{ key: "request.headers[x-debug]", values: ["on"] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: shop-only, namespace: shop }
spec:
  rules: [{ to: [{ operation: { paths: ["/shop/*"] } }] }]
`,
  };
}

let key: TestKey;
let fixture: FilterFixture;
let client: ExtAuthzClient;

beforeAll(async () => {
  key = await testKey('k1');
  fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), {});
  client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await fixture?.close();
});

function lastAudit(f: FilterFixture = fixture): Record<string, unknown> {
  return JSON.parse(f.audit[f.audit.length - 1]!) as Record<string, unknown>;
}

describe('client IP (remote.ip) with numTrustedProxies', () => {
  it.each(MODES)('%s: a client-written X-Forwarded-For entry is not the client address', async (mode) => {
    // The client sent "203.0.113.7"; the proxy appended the address it saw (198.51.100.9).
    const outcome = await httpCheck(fixture.filter.httpPort!, mode, { path: '/office/x', headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.9' } });
    expect(outcome.status).toBe(403);
    expect(lastAudit()).toMatchObject({ reason: 'no_allow_match', sourceIp: '198.51.100.9' });
  });

  it('gRPC: reads x-forwarded-for only as far as it ends with Envoy\'s own peer', async () => {
    const request = checkRequest({ path: '/office/x', sourceIp: '198.51.100.9', headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.9' } });
    expect(outcomeOf(await client.check(request)).status).toBe(403);
    // Envoy did not append (x-forwarded-for does not end with source.address): the header is the client's.
    expect(outcomeOf(await client.check(checkRequest({ path: '/office/x', sourceIp: '198.51.100.9', headers: { 'x-forwarded-for': '203.0.113.7' } }))).status).toBe(403);
  });

  it('nginx: X-Real-IP is the direct peer; an X-Forwarded-For nginx did not append is ignored', async () => {
    const outcome = await httpCheck(fixture.filter.httpPort!, 'nginx', { path: '/office/x', headers: { 'x-real-ip': '198.51.100.9', 'x-forwarded-for': '203.0.113.7' } });
    expect(outcome.status).toBe(403);
    expect(lastAudit()).toMatchObject({ sourceIp: '198.51.100.9' });
    expect((await httpCheck(fixture.filter.httpPort!, 'nginx', { path: '/peer-ip/x', headers: { 'x-real-ip': '198.51.100.9', 'x-forwarded-for': '203.0.113.7' } })).status).toBe(200);
  });

  describe('with numTrustedProxies: 1 (a load balancer in front of the proxy)', () => {
    let behindLb: FilterFixture;
    let lbClient: ExtAuthzClient;
    beforeAll(async () => {
      behindLb = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { numTrustedProxies: 1 });
      lbClient = new ExtAuthzClient(`127.0.0.1:${behindLb.filter.grpcPort}`);
    });
    afterAll(async () => {
      lbClient?.close();
      await behindLb?.close();
    });

    it.each(MODES)('%s: the entry the trusted hop appended is the client; anything left of it is not', async (mode) => {
      // client -> LB (appends 203.0.113.7) -> proxy (appends the LB, 10.0.0.2) -> idgate
      expect((await httpCheck(behindLb.filter.httpPort!, mode, { path: '/office/x', headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.2' } })).status).toBe(200);
      // The client itself wrote 203.0.113.7 in front of the LB's entry: not believed.
      expect((await httpCheck(behindLb.filter.httpPort!, mode, { path: '/office/x', headers: { 'x-forwarded-for': '203.0.113.7, 192.0.2.44, 10.0.0.2' } })).status).toBe(403);
    });

    it('gRPC: remoteIpBlocks use x-forwarded-for too (not source.address)', async () => {
      const allowed = checkRequest({ path: '/office/x', sourceIp: '10.0.0.2', headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.2' } });
      expect(outcomeOf(await lbClient.check(allowed)).status).toBe(200);
      const spoofed = checkRequest({ path: '/office/x', sourceIp: '10.0.0.2', headers: { 'x-forwarded-for': '203.0.113.7, 192.0.2.44, 10.0.0.2' } });
      expect(outcomeOf(await lbClient.check(spoofed)).status).toBe(403);
      // Too few entries for the trusted hops: remote.ip falls back to the direct peer, as Envoy does.
      expect(outcomeOf(await lbClient.check(checkRequest({ path: '/office/x', sourceIp: '10.0.0.2', headers: { 'x-forwarded-for': '10.0.0.2' } }))).status).toBe(403);
    });
  });
});

describe('host', () => {
  it('nginx: a client-sent X-Forwarded-Host does not replace the host nginx reports', async () => {
    const outcome = await httpCheck(fixture.filter.httpPort!, 'nginx', { host: 'admin.example.com', path: '/host/x', headers: { 'x-forwarded-host': 'public.example.com' } });
    expect(outcome.status).toBe(403);
    expect(lastAudit()).toMatchObject({ host: 'admin.example.com' });
    expect((await httpCheck(fixture.filter.httpPort!, 'nginx', { host: 'public.example.com', path: '/host/x' })).status).toBe(200);
  });

  async function rawCheck(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${fixture.filter.httpPort}${path}`, { headers });
    return { status: response.status, body: await response.text() };
  }

  it('nginx: a request without X-Original-Method or X-Original-URL is refused (400), not guessed', async () => {
    const noUrl = await rawCheck('/nginx', { 'x-original-method': 'GET', 'x-original-uri': '/host/x', 'x-forwarded-host': 'public.example.com' });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body).toContain('X-Original-URL');
    expect(lastAudit()).toMatchObject({ reason: 'bad_request', decision: 'deny', transport: 'nginx' });
    const noMethod = await rawCheck('/nginx', { 'x-original-url': 'http://public.example.com/host/x' });
    expect(noMethod.status).toBe(400);
    expect(noMethod.body).toContain('X-Original-Method');
  });

  it('traefik: a request without X-Forwarded-Method or X-Forwarded-Uri is refused (400)', async () => {
    const outcome = await rawCheck('/traefik', { 'x-forwarded-method': 'GET', 'x-forwarded-host': 'public.example.com' });
    expect(outcome.status).toBe(400);
    expect(outcome.body).toContain('X-Forwarded-Uri');
    expect(lastAudit()).toMatchObject({ reason: 'bad_request', transport: 'traefik' });
  });
});

describe('callers that are not the proxy', () => {
  let strict: FilterFixture;
  beforeAll(async () => {
    strict = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { trustedProxies: ['192.0.2.1/32'] });
  });
  afterAll(async () => strict?.close());

  it.each(MODES)('%s: a caller outside trustedProxies is refused (403 untrusted_proxy), whatever it claims', async (mode) => {
    const outcome = await httpCheck(strict.filter.httpPort!, mode, { host: 'public.example.com', path: '/host/x' });
    expect(outcome.status).toBe(403);
    expect(lastAudit(strict)).toMatchObject({ reason: 'untrusted_proxy', sourceIp: '127.0.0.1' });
  });
});

describe('peer identity from x-forwarded-client-cert', () => {
  const forged = `By=${GATEWAY};URI=spiffe://cluster.local/ns/admin/sa/ops`;

  it.each(MODES)('%s: XFCC is not believed unless the config says the proxy overwrites it (default SANITIZE)', async (mode) => {
    expect((await httpCheck(fixture.filter.httpPort!, mode, { path: '/ops/x', headers: { 'x-forwarded-client-cert': forged } })).status).toBe(403);
  });

  describe('with forwardClientCertDetails: SANITIZE_SET', () => {
    let gateway: FilterFixture;
    beforeAll(async () => {
      gateway = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { xfcc: { trustedBy: [GATEWAY], forwardClientCertDetails: 'SANITIZE_SET' } });
    });
    afterAll(async () => gateway?.close());

    it.each(MODES)('%s: one element set by the trusted proxy is believed; a client element in front of it is a forgery', async (mode) => {
      const allowed = await httpCheck(gateway.filter.httpPort!, mode, { path: '/ops/x', headers: { 'x-forwarded-client-cert': forged } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers['x-idgate-peer-principal']).toBe('cluster.local/ns/admin/sa/ops');
      const appended = `${forged},By=${GATEWAY};URI=spiffe://cluster.local/ns/web/sa/web`;
      expect((await httpCheck(gateway.filter.httpPort!, mode, { path: '/ops/x', headers: { 'x-forwarded-client-cert': appended } })).status).toBe(403);
    });
  });

  it('refuses a config that trusts XFCC without saying how the proxy writes it', async () => {
    await expect(startFilterFixture({}, { xfcc: { trustedBy: [GATEWAY] } })).rejects.toThrow(/forwardClientCertDetails/);
  });
});

describe('headers sent as header_map (Envoy encode_raw_headers)', () => {
  function rawHeaders(path: string, headers: Record<string, string>): Record<string, unknown> {
    const request = checkRequest({ path }) as { attributes: { request: { http: Record<string, unknown> } } };
    const http = request.attributes.request.http;
    const all = { ...(http.headers as Record<string, string>), ...headers };
    delete http.headers;
    http.header_map = { headers: Object.entries(all).map(([k, v]) => ({ key: k, raw_value: Buffer.from(v) })) };
    return request;
  }

  it('finds the token in header_map (a bad token there is a 401, not an anonymous request)', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice' });
    expect(outcomeOf(await client.check(rawHeaders('/me/x', { authorization: `Bearer ${token}` }))).status).toBe(200);
    expect(outcomeOf(await client.check(rawHeaders('/me/x', { authorization: `Bearer ${token.slice(0, -4)}AAAA` }))).status).toBe(401);
  });

  it('applies header conditions to header_map, repeated headers joined as Envoy joins them', async () => {
    expect(outcomeOf(await client.check(rawHeaders('/debug/x', { 'X-Debug': 'on' }))).status).toBe(200);
    const request = rawHeaders('/debug/x', {}) as { attributes: { request: { http: { header_map: { headers: unknown[] } } } } };
    request.attributes.request.http.header_map.headers.push({ key: 'x-debug', value: 'on' }, { key: 'x-debug', value: 'off' });
    expect(outcomeOf(await client.check(request)).status).toBe(403); // "on,off" is not "on"
  });
});

describe('target workload behind Istio\'s CUSTOM provider (no context_extensions)', () => {
  function custom(path: string, attributes: Record<string, unknown>): Record<string, unknown> {
    const request = checkRequest({ path }) as { attributes: Record<string, unknown> };
    request.attributes.context_extensions = {};
    Object.assign(request.attributes, attributes);
    return request;
  }

  it('takes the namespace from the ingress\'s own SPIFFE identity (destination.principal)', async () => {
    const request = custom('/shop/cart', { destination: { principal: 'spiffe://cluster.local/ns/shop/sa/shop-gateway', address: { socket_address: { address: '10.0.0.1', port_value: 8443 } } } });
    expect(outcomeOf(await client.check(request)).status).toBe(200);
    expect(lastAudit()).toMatchObject({ namespace: 'shop' });
    // Without it the default workload applies, where /shop/* is not allowed.
    expect(outcomeOf(await client.check(custom('/shop/cart', {}))).status).toBe(403);
    expect(lastAudit()).toMatchObject({ namespace: 'default' });
  });

  it('prefers the VirtualService namespace in Istio\'s route metadata', async () => {
    const route = { filter_metadata: { istio: { fields: { config: { stringValue: '/apis/networking.istio.io/v1alpha3/namespaces/shop/virtual-service/shop' } } } } };
    const request = custom('/shop/cart', { route_metadata_context: route, destination: { principal: 'spiffe://cluster.local/ns/istio-system/sa/gw' } });
    expect(outcomeOf(await client.check(request)).status).toBe(200);
    expect(lastAudit()).toMatchObject({ namespace: 'shop' });
  });

  it('never takes the namespace from the client\'s Host', async () => {
    expect(outcomeOf(await client.check(custom('/shop/cart', { request: { http: { method: 'GET', path: '/shop/cart', host: 'cart.shop.svc.cluster.local', headers: {} } } }))).status).toBe(403);
  });
});

describe('identity headers carry any claim without breaking the response', () => {
  const groups = ['staff', 'Łukasz', '李', '😀', 'tab\there', 'UTF-8\'\'literal'];
  const encoded = "UTF-8''staff%2C%C5%81ukasz%2C%E6%9D%8E%2C%F0%9F%98%80%2Ctab%09here%2CUTF-8%27%27literal";

  it.each(MODES)('%s: non-Latin-1 and control characters are RFC 8187-encoded, and the filter keeps answering', async (mode) => {
    const token = await mint(key, { iss: ISS, sub: 'łukasz', groups });
    const outcome = await httpCheck(fixture.filter.httpPort!, mode, { path: '/me/x', headers: { authorization: `Bearer ${token}` } });
    expect(outcome.status).toBe(200);
    expect(outcome.headers['x-idgate-groups']).toBe(encoded);
    expect(outcome.headers['x-idgate-subject']).toBe("UTF-8''%C5%82ukasz");
    expect(decodeURIComponent(outcome.headers['x-idgate-groups']!.slice("UTF-8''".length))).toBe(groups.join(','));
    expect((await httpCheck(fixture.filter.httpPort!, mode, { path: '/me/x' })).status).toBe(403);
  });

  it('gRPC: the same encoding, so upstreams see one format whatever the proxy', async () => {
    const token = await mint(key, { iss: ISS, sub: 'łukasz', groups });
    const outcome = outcomeOf(await client.check({ path: '/me/x', headers: { authorization: `Bearer ${token}` } }));
    expect(outcome.status).toBe(200);
    expect(outcome.headers['x-idgate-groups']).toBe(encoded);
  });

  it.each(MODES)('%s: a path with characters outside visible ASCII still gets a valid WWW-Authenticate realm', async (mode) => {
    const outcome = await httpCheck(fixture.filter.httpPort!, mode, { path: '/me/%E2%82%AC"x', headers: { authorization: 'Bearer a.b.c' } });
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/app\.example\.com\/me\/%E2%82%AC%22x", error="invalid_token"$/);
  });
});
