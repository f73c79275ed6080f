/**
 * The path, host and request principal a decision is made on, end to end through a real filter over
 * gRPC and every HTTP mode: a client cannot make the filter decide on another path than the one the
 * upstream serves (encoded dots, escaped slashes, backslashes, double slashes, fragments, bad escapes),
 * path templates match as Envoy's uri_template does, hosts include their port, and requestPrincipals
 * read "*" where Istio's generator reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterConfigInput } from '../../src/authz/config.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, outcomeOf, type EnvoyRequest } from './helpers/grpc-client.js';
import { httpCheck } from './helpers/http-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://iss.example';
const OTHER_ISS = 'https://iss.example.org';
const TRANSPORTS = ['grpc', 'envoy-http', 'nginx', 'traefik'] as const;
type Transport = (typeof TRANSPORTS)[number];
const RAW: readonly Transport[] = ['nginx', 'traefik'];

function policies(jwks: string): Record<string, string> {
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "${ISS}", jwks: ${JSON.stringify(jwks)} }, { issuer: "${OTHER_ISS}", jwks: ${JSON.stringify(jwks)} }]
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: api-needs-token, namespace: default }
spec:
  action: DENY
  rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/api/*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: site, namespace: default }
spec:
  rules:
  - to: [{ operation: { paths: ["/static/*"] } }]
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/api/*"] } }]
  - to: [{ operation: { paths: ["/x/{**}", "/foo/{**}/bar"] } }]
  - to: [{ operation: { hosts: ["shop.example.com", "k.example.com"], paths: ["/host"] } }]
  - to: [{ operation: { hosts: ["*"], paths: ["/any-host"] } }]
  - to: [{ operation: { hosts: ["ports.example.com:*"], paths: ["/host"] } }]
  - from: [{ source: { requestPrincipals: ["*.example/alice*"] } }]
    to: [{ operation: { paths: ["/rp/iss-suffix"] } }]
  - from: [{ source: { requestPrincipals: ["${ISS}*/alice"] } }]
    to: [{ operation: { paths: ["/rp/iss-star"] } }]
  - from: [{ source: { requestPrincipals: ["${ISS}/b*c"] } }]
    to: [{ operation: { paths: ["/rp/middle-star"] } }]
  - from: [{ source: { requestPrincipals: ["${ISS}/ali*"] } }]
    to: [{ operation: { paths: ["/rp/sub-prefix"] } }]
  - from: [{ source: { requestPrincipals: ["*ice"] } }]
    to: [{ operation: { paths: ["/rp/no-slash-suffix"] } }]
  - from: [{ source: { requestPrincipals: ["https:*"] } }]
    to: [{ operation: { paths: ["/rp/no-slash-prefix"] } }]
  - to: [{ operation: { paths: ["/rp/when"] } }]
    when: [{ key: request.auth.principal, values: ["*.example/alice*"] }]
`,
  };
}

let key: TestKey;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  key = await testKey('k1');
  for (const sub of ['alice', 'alice2', 'alice*', 'bxc', 'b*c', 'bob']) tokens[sub] = await mint(key, { iss: ISS, sub });
  tokens['elsewhere/alice'] = await mint(key, { iss: OTHER_ISS, sub: 'alice' });
});

/** A running filter with one path configuration, and a way to send a request through each transport. */
function filterWith(config: Partial<FilterConfigInput>) {
  const state: { fixture?: FilterFixture; client?: ExtAuthzClient } = {};
  beforeAll(async () => {
    state.fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { defaultWorkload: { namespace: 'default' }, ...config });
    state.client = new ExtAuthzClient(`127.0.0.1:${state.fixture.filter.grpcPort}`);
  });
  afterAll(async () => {
    state.client?.close();
    await state.fixture?.close();
  });
  return async (transport: Transport, request: EnvoyRequest, token?: string): Promise<{ status: number; reason: string }> => {
    const fixture = state.fixture!;
    const sent = token ? { ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[token]}` } } : request;
    const status = transport === 'grpc' ? outcomeOf(await state.client!.check(sent)).status : (await httpCheck(fixture.filter.httpPort!, transport, sent)).status;
    const line = JSON.parse(fixture.audit[fixture.audit.length - 1]!) as { reason: string };
    return { status, reason: line.reason };
  };
}

const ALLOWED = { status: 200, reason: 'allowed' };
const DENIED = { status: 403, reason: 'denied_by_policy' };
const NO_MATCH = { status: 403, reason: 'no_allow_match' };
const INVALID = { status: 400, reason: 'invalid_path' };
type Outcome = typeof ALLOWED | typeof DENIED | typeof NO_MATCH | typeof INVALID;

/** [path, outcome over gRPC and Envoy HTTP (an already-normalized path), outcome over nginx and Traefik (the raw target)] */
type PathCase = readonly [string, Outcome, Outcome];

function expectPaths(decide: ReturnType<typeof filterWith>, cases: readonly PathCase[]) {
  for (const transport of TRANSPORTS) {
    it.each(cases.map(([path, envoy, raw]) => [path, RAW.includes(transport) ? raw : envoy] as const))(`${transport}: %s`, async (path, expected) => {
      expect(await decide(transport, { path })).toMatchObject(expected);
    });
  }
}

describe('pathNormalization BASE, escaped slashes KEEP_UNCHANGED (the defaults)', () => {
  const decide = filterWith({});
  expectPaths(decide, [
    ['/static/a', ALLOWED, ALLOWED],
    ['/api/orders', DENIED, DENIED],
    // Encoded dots are dot segments: the decision is on /api/orders, as the upstream will serve it.
    ['/static/%2e%2e/api/orders', DENIED, DENIED],
    ['/static/%2E%2E/api/orders', DENIED, DENIED],
    ['/static/.%2e/api/orders', DENIED, DENIED],
    ['/static/..;x/api/orders', DENIED, DENIED],
    // Encoded unreserved characters are decoded.
    ['/%61pi/orders', DENIED, DENIED],
    ['/st%61tic/a', ALLOWED, ALLOWED],
    // An escaped slash stays one segment for Envoy (KEEP_UNCHANGED): the literal path is under /static/.
    // A raw target with one is ambiguous (nginx decodes it when it routes): refused.
    ['/static/..%2fapi/orders', ALLOWED, INVALID],
    ['/static/%2e%2e%2fapi/orders', ALLOWED, INVALID],
    ['/static/..%5capi/orders', ALLOWED, INVALID],
    // Backslashes: slashes for Envoy, ambiguous in a raw target.
    ['/static\\..\\api\\orders', DENIED, INVALID],
    // BASE keeps double slashes: //api//orders is not under /api/ (and not under /static/ either).
    // In a raw target they are ambiguous (nginx merges slashes when it routes): refused.
    ['//api//orders', NO_MATCH, INVALID],
    ['//static//a', NO_MATCH, INVALID],
    // Never interpretable: fragments, bad escapes, escaped NUL, no leading slash.
    ['/static/a#x', INVALID, INVALID],
    ['/static/a?q=1#x', INVALID, INVALID],
    ['/static/%zz', INVALID, INVALID],
    ['/static/%2', INVALID, INVALID],
    ['/static/%00', INVALID, INVALID],
    // The query never takes part.
    ['/static/a?next=/../api/orders', ALLOWED, ALLOWED],
  ]);

  it.each(TRANSPORTS)('%s: a token still opens /api/ under its normalized spellings', async (transport) => {
    expect(await decide(transport, { path: '/static/%2e%2e/api/orders' }, 'bob')).toMatchObject(ALLOWED);
  });
});

describe('pathNormalization MERGE_SLASHES', () => {
  expectPaths(filterWith({ pathNormalization: 'MERGE_SLASHES' }), [
    ['//api//orders', DENIED, DENIED],
    ['//static//a', ALLOWED, ALLOWED],
    // Merged after normalize_path, as Envoy does: /static//../api is /static/api, not /api.
    ['/static//../api/orders', ALLOWED, ALLOWED],
    ['/static/..%2fapi/orders', ALLOWED, INVALID],
  ]);
});

describe('pathNormalization DECODE_AND_MERGE_SLASHES (escaped slashes UNESCAPE_AND_FORWARD)', () => {
  expectPaths(filterWith({ pathNormalization: 'DECODE_AND_MERGE_SLASHES' }), [
    // %2F and %5C are slashes: the decision is on /api/orders in every mode.
    ['/static/..%2fapi/orders', DENIED, DENIED],
    ['/static/..%2Fapi/orders', DENIED, DENIED],
    ['/static/%2e%2e%2fapi/orders', DENIED, DENIED],
    ['/static%5c..%5capi/orders', DENIED, DENIED],
    ['//api//orders', DENIED, DENIED],
    ['/static%2fa', ALLOWED, ALLOWED],
    ['/static/%zz', INVALID, INVALID],
  ]);
});

describe('pathWithEscapedSlashesAction REJECT_REQUEST', () => {
  expectPaths(filterWith({ pathWithEscapedSlashesAction: 'REJECT_REQUEST' }), [
    ['/static/..%2fapi/orders', INVALID, INVALID],
    ['/static/a%5Cb', INVALID, INVALID],
    ['/static/%2e%2e/api/orders', DENIED, DENIED],
    ['/static/a%252f', ALLOWED, ALLOWED],
  ]);
});

describe('pathNormalization NONE', () => {
  expectPaths(filterWith({ pathNormalization: 'NONE' }), [
    // Envoy forwards the path as is, so the decision is on it as is.
    ['/static/%2e%2e/api/orders', ALLOWED, INVALID],
    ['/static/../api/orders', ALLOWED, INVALID],
    ['/%61pi/orders', NO_MATCH, NO_MATCH],
    ['/static/a#x', INVALID, INVALID],
  ]);
});

describe('path templates as Envoy uri_template matches them', () => {
  const decide = filterWith({});
  it.each(TRANSPORTS)('%s: /x/{**} matches /x/ and below, not /x', async (transport) => {
    expect(await decide(transport, { path: '/x' })).toMatchObject(NO_MATCH);
    expect(await decide(transport, { path: '/x/' })).toMatchObject(ALLOWED);
    expect(await decide(transport, { path: '/x/a/b' })).toMatchObject(ALLOWED);
  });

  it.each(TRANSPORTS)('%s: /foo/{**}/bar needs both slashes around {**}', async (transport) => {
    expect(await decide(transport, { path: '/foo/bar' })).toMatchObject(NO_MATCH);
    // An empty segment is refused in a raw target (nginx, Traefik) unless slashes are merged.
    expect(await decide(transport, { path: '/foo//bar' })).toMatchObject(transport === 'nginx' || transport === 'traefik' ? INVALID : ALLOWED);
    expect(await decide(transport, { path: '/foo/a/b/bar' })).toMatchObject(ALLOWED);
  });
});

describe('hosts match :authority with its port, case-insensitively', () => {
  const decide = filterWith({});
  it.each(TRANSPORTS)('%s', async (transport) => {
    expect(await decide(transport, { path: '/host', host: 'shop.example.com' })).toMatchObject(ALLOWED);
    expect(await decide(transport, { path: '/host', host: 'SHOP.Example.COM' })).toMatchObject(ALLOWED);
    expect(await decide(transport, { path: '/host', host: 'shop.example.com:8443' })).toMatchObject(NO_MATCH);
    expect(await decide(transport, { path: '/host', host: 'ports.example.com:8443' })).toMatchObject(ALLOWED);
    expect(await decide(transport, { path: '/host', host: 'ports.example.com' })).toMatchObject(NO_MATCH);
  });

  it('compares case-insensitively in ASCII only, as Envoy does (the Kelvin sign is not a "k")', async () => {
    expect(await decide('grpc', { path: '/host', host: 'K.example.com' })).toMatchObject(ALLOWED);
    expect(await decide('grpc', { path: '/host', host: '\u212a.example.com' })).toMatchObject(NO_MATCH);
  });

  it('reads hosts ["*"] as Envoy\'s present_match: every request has an :authority, even an empty one', async () => {
    expect(await decide('grpc', { path: '/any-host', host: '' })).toMatchObject(ALLOWED);
    expect(await decide('traefik', { path: '/any-host', host: '' })).toMatchObject(ALLOWED);
  });
});

describe('requestPrincipals as Istio\'s generator reads them', () => {
  const decide = filterWith({});
  const cases: ReadonlyArray<readonly [string, string, string, boolean]> = [
    // "*.example/alice*": starts with "*", so iss is a suffix and sub is exact ("*" literal).
    ['/rp/iss-suffix', 'sub alice* (literal)', 'alice*', true],
    ['/rp/iss-suffix', 'sub alice2 (not a prefix match)', 'alice2', false],
    // "https://iss.example*/alice": the value does not start or end with "*": iss exact, "*" literal.
    ['/rp/iss-star', 'iss https://iss.example (not a prefix match)', 'alice', false],
    ['/rp/iss-star', 'iss https://iss.example.org', 'elsewhere/alice', false],
    // "https://iss.example/b*c": a middle "*" is literal.
    ['/rp/middle-star', 'sub b*c', 'b*c', true],
    ['/rp/middle-star', 'sub bxc', 'bxc', false],
    // "https://iss.example/ali*": iss exact, sub prefix.
    ['/rp/sub-prefix', 'sub alice2', 'alice2', true],
    ['/rp/sub-prefix', 'another issuer', 'elsewhere/alice', false],
    // No "/": "*ice" is any iss with sub suffix; "https:*" is an iss prefix with any sub.
    ['/rp/no-slash-suffix', 'sub alice', 'alice', true],
    ['/rp/no-slash-suffix', 'sub bob', 'bob', false],
    ['/rp/no-slash-prefix', 'iss https://iss.example', 'bob', true],
    // The request.auth.principal when-key reads values the same way.
    ['/rp/when', 'sub alice*', 'alice*', true],
    ['/rp/when', 'sub alice2', 'alice2', false],
  ];
  it.each(TRANSPORTS)('%s', async (transport) => {
    for (const [path, what, token, allowed] of cases) {
      expect(await decide(transport, { path }, token), `${path} with ${what}`).toMatchObject(allowed ? ALLOWED : NO_MATCH);
    }
    expect(await decide(transport, { path: '/rp/no-slash-prefix' })).toMatchObject(NO_MATCH);
  });
});
