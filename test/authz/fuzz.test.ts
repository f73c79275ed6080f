/**
 * A seeded, bounded fuzz of the filter's inputs: a few thousand CheckRequests over gRPC and requests in
 * every HTTP mode, built from hostile pieces (paths with dot segments and bad escapes, headers with
 * any character a client can send, forged forwarding headers, tokens with odd claims, broken tokens,
 * header_map, metadata). Whatever comes in, the filter answers with a decision status, never an
 * internal error, and keeps answering afterwards. The seed is fixed so a failure reproduces; set
 * IDGATE_FUZZ_SEED to explore other inputs.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, checkRequest, outcomeOf } from './helpers/grpc-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const SEED = Number(process.env.IDGATE_FUZZ_SEED ?? 20261201);
const GRPC_CASES = 1500;
const HTTP_CASES = 1500;

/** mulberry32: a small, good-enough PRNG, so the same seed gives the same cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POLICIES = (jwks: string) => ({
  'policies.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules:
  - { issuer: "${ISS}", jwks: ${JSON.stringify(jwks)}, outputClaimToHeaders: [{ header: x-name, claim: name }] }
  - { issuer: "${ISS}", jwks: ${JSON.stringify(jwks)}, fromCookies: [session], fromParams: [token] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: istio-system }
spec:
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin/*", "/admin"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: app, namespace: default }
spec:
  rules:
  - to: [{ operation: { paths: ["/public/*", "/x/{*}/y", "/files/{**}"] } }]
  - from: [{ source: { requestPrincipals: ["${ISS}/*"], remoteIpBlocks: ["10.0.0.0/8", "2001:db8::/32"] } }]
    to: [{ operation: { hosts: ["*.example.com"], methods: [GET, POST] } }]
    when: [{ key: "request.auth.claims[groups]", values: ["staff", "Łukasz"] }, { key: "request.headers[x-env]", notValues: ["prod*"] }]
  - from: [{ source: { principals: ["cluster.local/ns/*"], notIpBlocks: ["192.0.2.0/24"] } }]
`,
});

describe('fuzzing the filter\'s inputs', () => {
  let key: TestKey;
  let fixture: FilterFixture;
  let client: ExtAuthzClient;
  let tokens: string[];
  const rand = prng(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const chance = (p: number) => rand() < p;

  /** Text from a hostile alphabet: separators, escapes, dots, quotes, Unicode, controls (for gRPC, which carries any string). */
  function text(max: number, alphabet: readonly string[]): string {
    let out = '';
    const length = Math.floor(rand() * max);
    for (let i = 0; i < length; i++) out += pick(alphabet);
    return out;
  }
  const ANY = ['a', 'Z', '0', '/', '.', '..', '%', '%2e', '%2E', '%2f', '%5C', '\\', '?', '#', ';', ',', '=', '"', ' ', '*', '{', '}', '%zz', '%00', '\u0000', '\r\n', '\t', 'Ł', '李', '😀', '\ud800', 'é', '%C5%81', '//', '/./', '/../'];
  /** What a client can put in an HTTP/1.1 header or request target through node:http (no controls). */
  const WIRE = ANY.filter((c) => [...c].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f && ch.charCodeAt(0) <= 0xff));
  const PATHS = ['/', '/public/a', '/public/%2e%2e/admin/x', '/admin', '/x/1/y', '/x//y', '/files', '/files/', '/files/a/b', '/api', '*', ''];

  function path(alphabet: readonly string[]): string {
    return chance(0.5) ? pick(PATHS) + text(6, alphabet) : `/${text(20, alphabet)}`;
  }

  function headers(alphabet: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    if (chance(0.6)) out.authorization = chance(0.8) ? `Bearer ${pick(tokens)}` : `${pick(['Bearer ', 'bearer ', 'Basic ', ''])}${text(30, alphabet)}`;
    if (chance(0.3)) out['x-forwarded-for'] = pick(['10.1.2.3', '10.1.2.3, 127.0.0.1', 'garbage', '2001:db8::1, ::1', '', ' , ,', '192.0.2.1:80']) + (chance(0.3) ? `,${text(10, alphabet)}` : '');
    if (chance(0.2)) out['x-forwarded-client-cert'] = `By=spiffe://x;URI=spiffe://cluster.local/ns/${text(8, alphabet)}${chance(0.5) ? ',' : ''}${text(10, alphabet)}`;
    if (chance(0.2)) out.cookie = `session=${pick(tokens)}; ${text(10, alphabet)}`;
    if (chance(0.3)) out['x-env'] = text(10, alphabet);
    if (chance(0.2)) out['x-idgate-groups'] = 'admins';
    if (chance(0.1)) out.origin = 'https://a.example';
    if (chance(0.1)) out['access-control-request-method'] = 'GET';
    return out;
  }

  beforeAll(async () => {
    key = await testKey('k1');
    const other = await testKey('k1');
    fixture = await startFilterFixture(POLICIES(JSON.stringify(jwksOf(key))), { trustedProxies: ['127.0.0.1/32'], numTrustedProxies: 1, xfcc: { trustedBy: ['spiffe://x'], forwardClientCertDetails: 'APPEND_FORWARD' } });
    client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
    const claimSets: Array<Record<string, unknown>> = [
      { sub: 'alice', groups: ['staff'] },
      { sub: 'Łukasz', groups: ['Łukasz', '李', '😀', 'a\r\nb', '\u0000'], name: '\u202e evil \u0007' },
      { sub: 'x'.repeat(5000), groups: Array.from({ length: 300 }, (_, i) => `g${i}`) },
      { sub: 42, groups: 'staff', aud: [1, null, {}], scope: 7 },
      { sub: 'nested', groups: [{ a: 1 }, ['staff']], name: { first: 'x' }, exp: 'soon' },
      { sub: 'big', blob: 'y'.repeat(40_000) },
      { sub: 'UTF-8\'\'x', groups: ['UTF-8\'\'staff'] },
    ];
    const valid = await Promise.all(claimSets.map((claims) => mint(key, { iss: ISS, ...claims } as never)));
    const wrongKey = await mint(other, { iss: ISS, sub: 'mallory', groups: ['staff'] });
    const expired = await mint(key, { iss: ISS, sub: 'alice' }, { expiresIn: -3600 });
    const foreign = await mint(key, { iss: 'https://elsewhere.example', sub: 'x' });
    tokens = [...valid, wrongKey, expired, foreign, `${valid[0]!}!`, valid[0]!.replace(/\.[^.]*$/, '.'), 'a.b.c', '...', 'ey.ey.ey', valid[1]!.slice(0, 100)];
  });

  afterAll(async () => {
    client?.close();
    await fixture?.close();
  });

  const DECISIONS = new Set([200, 400, 401, 403]);

  it(`answers ${GRPC_CASES} random CheckRequests over gRPC with decisions only`, async () => {
    const seen = new Set<number>();
    for (let i = 0; i < GRPC_CASES; i++) {
      const request = checkRequest({ path: path(ANY), method: pick(['GET', 'POST', 'OPTIONS', 'DELETE', '', 'G\u0000T']), host: pick(['a.example.com', 'A.EXAMPLE.COM:8443', '', 'x'.repeat(300), text(10, ANY)]), headers: headers(ANY), sourceIp: pick(['10.1.2.3', '127.0.0.1', '::1', 'not-an-ip', '']), ...(chance(0.3) ? { peer: `spiffe://cluster.local/ns/${text(6, ANY)}/sa/x` } : {}), ...(chance(0.3) ? { namespace: pick(['default', 'istio-system', '', text(5, ANY)]) } : {}), ...(chance(0.2) ? { labels: text(12, ANY) } : {}) }) as { attributes: Record<string, unknown> & { request: { http: Record<string, unknown> } } };
      const attributes = request.attributes;
      if (chance(0.15)) {
        const http = attributes.request.http;
        http.header_map = { headers: Object.entries(http.headers as Record<string, string>).map(([k, v]) => (chance(0.5) ? { key: k.toUpperCase(), raw_value: Buffer.from(v) } : { key: k, value: v })) };
        delete http.headers;
      }
      if (chance(0.1)) attributes.destination = { principal: `spiffe://td/ns/${text(6, ANY)}/sa/gw` };
      if (chance(0.1)) attributes.route_metadata_context = { filter_metadata: { istio: { fields: { config: { stringValue: `/apis/x/namespaces/${text(6, ANY)}/virtual-service/v` } } } } };
      if (chance(0.05)) attributes.metadata_context = { filter_metadata: { 'envoy.filters.http.jwt_authn': { fields: { verified: { listValue: { values: [{ stringValue: 'yes' }, { nullValue: 0 }] } } } } } };
      const outcome = outcomeOf(await client.check(request));
      if (!DECISIONS.has(outcome.status)) throw new Error(`case ${i}: status ${outcome.status} for ${JSON.stringify(request).slice(0, 500)}`);
      seen.add(outcome.status);
    }
    // The cases reach every outcome: allowed, refused, unauthenticated and denied.
    expect([...seen].sort()).toEqual([200, 400, 401, 403]);
    const internal = fixture.audit.filter((line) => (JSON.parse(line) as { reason: string }).reason === 'internal_error');
    expect(internal).toEqual([]);
  });

  it(`answers ${HTTP_CASES} random requests in every HTTP mode with decisions only`, async () => {
    const seen = new Set<number>();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const send = (requestPath: string, requestHeaders: Record<string, string>, method: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: fixture.filter.httpPort, path: requestPath, method, headers: requestHeaders, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (let i = 0; i < HTTP_CASES; i++) {
        const mode = pick(['envoy-http', 'nginx', 'traefik'] as const);
        const target = path(WIRE).replace(/[^\u0021-\u00ff]/g, '') || '/';
        const method = pick(['GET', 'POST', 'DELETE', 'PATCH']);
        const h = headers(WIRE);
        let requestPath = `/envoy${target.startsWith('/') ? target : `/${target}`}`;
        if (mode === 'nginx') {
          requestPath = `/nginx?namespace=${encodeURIComponent(pick(['default', 'istio-system', text(4, WIRE)]))}`;
          if (chance(0.9)) h['x-original-method'] = method;
          if (chance(0.9)) h['x-original-url'] = `${pick(['http', 'https', 'ftp', ''])}://${pick(['a.example.com', '', text(8, WIRE)])}${target}`;
          if (chance(0.8)) h['x-original-uri'] = target;
          if (chance(0.5)) h['x-real-ip'] = pick(['127.0.0.1', '10.9.9.9', text(6, WIRE)]);
        } else if (mode === 'traefik') {
          requestPath = `/traefik${chance(0.3) ? `?labels=${encodeURIComponent(text(8, WIRE))}` : ''}`;
          if (chance(0.9)) h['x-forwarded-method'] = method;
          if (chance(0.9)) h['x-forwarded-uri'] = target;
          if (chance(0.8)) h['x-forwarded-host'] = pick(['a.example.com', text(8, WIRE)]);
          if (chance(0.5)) h['x-forwarded-proto'] = pick(['http', 'https', text(4, WIRE)]);
        } else {
          h.host = pick(['a.example.com', 'b.example.com:8080', text(6, WIRE.filter((c) => /^[a-z0-9.]+$/i.test(c))) || 'h']);
        }
        const status = await send(requestPath, h, mode === 'envoy-http' ? method : 'GET');
        if (!DECISIONS.has(status)) throw new Error(`case ${i} (${mode}): status ${status} for ${requestPath} ${JSON.stringify(h).slice(0, 500)}`);
        seen.add(status);
      }
      expect([...seen].sort()).toEqual([200, 400, 401, 403]);
    } finally {
      agent.destroy();
    }
    const internal = fixture.audit.filter((line) => (JSON.parse(line) as { reason: string }).reason === 'internal_error');
    expect(internal).toEqual([]);
    const errors = await fixture.registry.getSingleMetric('idgate_filter_internal_errors_total')?.get();
    expect(errors?.values.reduce((sum, v) => sum + v.value, 0) ?? 0).toBe(0);
  });

  it('still decides an ordinary request correctly afterwards', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', groups: ['staff'] });
    const allowed = outcomeOf(await client.check({ path: '/anything', host: 'a.example.com', sourceIp: '127.0.0.1', headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '10.1.2.3, 127.0.0.1' } }));
    expect(allowed.status).toBe(200);
    expect(allowed.headers['x-idgate-request-principal']).toBe(`${ISS}/alice`);
    expect(outcomeOf(await client.check({ path: '/admin/x', host: 'a.example.com', headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });
});
