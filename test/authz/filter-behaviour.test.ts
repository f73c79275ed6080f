/**
 * The filter as a running service: what goes upstream on allow (identity headers, token removal,
 * forwardOriginalToken, outputPayloadToHeader), peer identity from XFCC only through trusted hops,
 * audit lines and metrics for every decision, and atomic policy reloads that refuse an invalid set.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerIdentityFrom } from '../../src/authz/peer/spiffe.js';
import { parseXfcc, peerFromXfcc } from '../../src/authz/peer/xfcc.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, checkRequest, outcomeOf } from './helpers/grpc-client.js';
import { httpCheck } from './helpers/http-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const GATEWAY = 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway';
let key: TestKey;
let fixture: FilterFixture;
let client: ExtAuthzClient;

function policies(jwks: string, extraRule = '') {
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules:
  - issuer: ${ISS}
    jwks: ${JSON.stringify(jwks)}
    outputPayloadToHeader: x-jwt-payload
  - issuer: ${ISS}
    jwks: ${JSON.stringify(jwks)}
    fromHeaders: [{ name: x-keep-token }]
    forwardOriginalToken: true
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: web, namespace: default }
spec:
  rules:
  - to: [{ operation: { paths: ["/open/*"] } }]
  - from: [{ source: { principals: ["cluster.local/ns/frontend/sa/web"] } }]
    to: [{ operation: { paths: ["/mtls/*"] } }]
  - to: [{ operation: { paths: ["/meta"] } }]
    when: [{ key: "experimental.envoy.filters.http.jwt_authn[verified]", values: ["yes"] }]${extraRule}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: audit-all, namespace: default }
spec: { action: AUDIT, rules: [{ to: [{ operation: { paths: ["/open/audited"] } }] }] }
`,
  };
}

beforeAll(async () => {
  key = await testKey('k1');
  fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { xfcc: { trustedBy: [GATEWAY], forwardClientCertDetails: 'APPEND_FORWARD' } });
  client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
});

afterAll(async () => {
  client.close();
  await fixture.close();
});

describe('allow response', () => {
  it('sets identity headers, removes the token and spoofed identity headers', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', groups: ['a', 'b'] });
    const response = await client.check({ path: '/open/x', headers: { authorization: `Bearer ${token}`, 'x-idgate-subject': 'root' }, peer: 'spiffe://cluster.local/ns/frontend/sa/web' });
    const outcome = outcomeOf(response);
    expect(outcome.headers).toMatchObject({
      'x-idgate-request-principal': `${ISS}/alice`,
      'x-idgate-subject': 'alice',
      'x-idgate-groups': 'a,b',
      'x-idgate-peer-principal': 'cluster.local/ns/frontend/sa/web',
      'x-idgate-peer-namespace': 'frontend',
      'x-idgate-peer-service-account': 'frontend/web',
      'x-jwt-payload': token.split('.')[1],
    });
    expect(outcome.removed).toEqual(['authorization']);
    expect(response.ok_response?.headers?.every((h) => h.append?.value === false)).toBe(true);
    expect(response.dynamic_metadata?.fields?.request_principal?.stringValue).toBe(`${ISS}/alice`);
  });

  it('removes an incoming identity header it does not set itself', async () => {
    const outcome = outcomeOf(await client.check({ path: '/open/x', headers: { 'x-idgate-request-principal': 'forged' } }));
    expect(outcome.removed).toContain('x-idgate-request-principal');
    expect(outcome.headers['x-idgate-request-principal']).toBeUndefined();
  });

  it('keeps the token when forwardOriginalToken is true', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice' });
    const outcome = outcomeOf(await client.check({ path: '/open/x', headers: { 'x-keep-token': token } }));
    expect(outcome.headers['x-idgate-subject']).toBe('alice');
    expect(outcome.removed).toEqual([]);
  });

  it('removes a token found in the access_token query parameter', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice' });
    const response = await client.check({ path: `/open/x?access_token=${token}` });
    expect(response.ok_response?.query_parameters_to_remove).toEqual(['access_token']);
  });

  it('tells Envoy HTTP mode which headers to remove', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice' });
    const outcome = await httpCheck(fixture.filter.httpPort!, 'envoy-http', { path: '/open/x', headers: { authorization: `Bearer ${token}` } });
    expect(outcome.status).toBe(200);
    expect(outcome.headers['x-envoy-auth-headers-to-remove']).toBe('authorization');
  });
});

describe('dynamic metadata conditions', () => {
  it('matches experimental.envoy.filters.* against metadata_context, and fails without it', async () => {
    const request = checkRequest({ path: '/meta' }) as { attributes: Record<string, unknown> };
    expect(outcomeOf(await client.check(request)).status).toBe(403);
    request.attributes.metadata_context = { filter_metadata: { 'envoy.filters.http.jwt_authn': { fields: { verified: { stringValue: 'yes' } } } } };
    expect(outcomeOf(await client.check(request)).status).toBe(200);
  });
});

describe('peer identity', () => {
  it('derives principal, namespace, service account and trust domain from the SPIFFE URI', () => {
    expect(peerIdentityFrom('spiffe://td.example/ns/shop/sa/checkout')).toEqual({
      principal: 'td.example/ns/shop/sa/checkout', trustDomain: 'td.example', namespace: 'shop', serviceAccount: 'shop/checkout',
    });
    expect(peerIdentityFrom(undefined)).toBeUndefined();
  });

  it('parses XFCC with quoted values containing separators', () => {
    const header = 'By=spiffe://a;Hash=1;Subject="/C=US/CN=x,y;z";URI=spiffe://one,By=spiffe://b;URI=spiffe://two;DNS=d';
    expect(parseXfcc(header)).toEqual([
      [['by', 'spiffe://a'], ['hash', '1'], ['subject', '/C=US/CN=x,y;z'], ['uri', 'spiffe://one']],
      [['by', 'spiffe://b'], ['uri', 'spiffe://two'], ['dns', 'd']],
    ]);
    const append = { trustedBy: new Set(['spiffe://b']), forwardClientCertDetails: 'APPEND_FORWARD' } as const;
    expect(peerFromXfcc(header, append)).toBe('spiffe://two');
    expect(peerFromXfcc(header, { ...append, trustedBy: new Set(['spiffe://a']) })).toBeUndefined();
  });

  it('believes XFCC only as the configured forwardClientCertDetails says the proxy writes it', () => {
    const one = 'By=spiffe://gw;URI=spiffe://td/ns/a/sa/b';
    const two = `By=spiffe://gw;URI=spiffe://td/ns/forged/sa/admin,${one}`;
    const trustedBy = new Set(['spiffe://gw']);
    expect(peerFromXfcc(one, { trustedBy, forwardClientCertDetails: 'SANITIZE' })).toBeUndefined();
    expect(peerFromXfcc(one, { trustedBy, forwardClientCertDetails: 'SANITIZE_SET' })).toBe('spiffe://td/ns/a/sa/b');
    // SANITIZE_SET: the proxy replaces the header, so more than one element means it did not.
    expect(peerFromXfcc(two, { trustedBy, forwardClientCertDetails: 'SANITIZE_SET' })).toBeUndefined();
    expect(peerFromXfcc(two, { trustedBy, forwardClientCertDetails: 'APPEND_FORWARD' })).toBe('spiffe://td/ns/a/sa/b');
  });

  it.each(['nginx', 'traefik', 'envoy-http'] as const)('%s: uses the last XFCC element set by a trusted gateway', async (mode) => {
    const xfcc = `By=${GATEWAY};URI=spiffe://cluster.local/ns/frontend/sa/web`;
    const outcome = await httpCheck(fixture.filter.httpPort!, mode, { path: '/mtls/x', headers: { 'x-forwarded-client-cert': xfcc } });
    expect(outcome.status).toBe(200);
    expect(outcome.headers['x-idgate-peer-principal']).toBe('cluster.local/ns/frontend/sa/web');
  });

  it.each(['nginx', 'traefik', 'envoy-http'] as const)('%s: ignores XFCC set by an untrusted hop', async (mode) => {
    const xfcc = `By=${GATEWAY};URI=spiffe://cluster.local/ns/frontend/sa/web,By=spiffe://evil/proxy;URI=spiffe://cluster.local/ns/frontend/sa/web`;
    expect((await httpCheck(fixture.filter.httpPort!, mode, { path: '/mtls/x', headers: { 'x-forwarded-client-cert': xfcc } })).status).toBe(403);
  });
});

describe('audit and metrics', () => {
  it('writes one JSON audit line per decision, without the query string, and marks AUDIT matches', async () => {
    const before = fixture.audit.length;
    await client.check({ path: '/open/audited?secret=1', requestId: 'rid-7', sourceIp: '10.0.0.7' });
    await client.check({ path: '/closed' });
    expect(fixture.audit.length).toBe(before + 2);
    const [allowed, denied] = fixture.audit.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(allowed).toMatchObject({ requestId: 'rid-7', decision: 'allow', status: 200, reason: 'allowed', policy: 'default/web', rule: 0, method: 'GET', host: 'app.example.com', path: '/open/audited', sourceIp: '10.0.0.7', audit: ['default/audit-all'] });
    expect(typeof allowed!.latencyUs).toBe('number');
    expect(typeof allowed!.time).toBe('string');
    expect(denied).toMatchObject({ decision: 'deny', status: 403, reason: 'no_allow_match' });
    expect(denied!.audit).toBeUndefined();
  });

  it('never writes a token into the audit line', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice' });
    await client.check({ path: `/open/x?access_token=${token}`, headers: { authorization: `Bearer ${token}` } });
    expect(fixture.audit[fixture.audit.length - 1]).not.toContain(token.split('.')[2]);
  });

  it('counts decisions by result, reason and policy, and observes latency', async () => {
    await client.check({ path: '/closed' });
    const text = await fixture.registry.metrics();
    expect(text).toMatch(/idgate_filter_decisions_total\{result="deny",reason="no_allow_match",policy=""\} \d+/);
    expect(text).toMatch(/idgate_filter_decisions_total\{result="allow",reason="allowed",policy="default\/web"\} \d+/);
    expect(text).toMatch(/idgate_filter_decision_duration_seconds_count\{transport="grpc"\} \d+/);
  });
});

describe('policy reload', () => {
  it('swaps in a valid new set, and keeps the old one (logged and counted) when the new one is invalid', async () => {
    expect(outcomeOf(await client.check({ path: '/new/x' })).status).toBe(403);
    const files = policies(JSON.stringify(jwksOf(key)), '\n  - to: [{ operation: { paths: ["/new/*"] } }]');
    await writeFile(join(fixture.dir, 'authz.yaml'), files['authz.yaml']);
    await fixture.filter.reload();
    expect(outcomeOf(await client.check({ path: '/new/x' })).status).toBe(200);
    await writeFile(join(fixture.dir, 'authz.yaml'), files['authz.yaml'].replace('paths: ["/new/*"]', 'paths: ["/new/{id}"]'));
    await fixture.filter.reload();
    expect(outcomeOf(await client.check({ path: '/new/x' })).status).toBe(200);
    expect(await fixture.registry.getSingleMetricAsString('idgate_filter_policy_reloads_total')).toMatch(/result="error"\} 1/);
  });
});

describe('policy watch', () => {
  it('reloads by itself when a policy file changes', async () => {
    const watched = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { watch: true });
    try {
      const status = async () => (await watched.filter.check({ transport: 'grpc', requestId: 'w', method: 'GET', host: 'h', path: '/watched', scheme: 'http', headers: {} })).status;
      expect(await status()).toBe(403);
      await writeFile(join(watched.dir, 'more.yaml'), 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: more, namespace: default }\nspec: { rules: [{ to: [{ operation: { paths: ["/watched"] } }] }] }\n');
      for (let i = 0; i < 50 && (await status()) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await status()).toBe(200);
    } finally {
      await watched.close();
    }
  });
});

describe('challengeAnonymous', () => {
  it("keeps Istio's 403 for a tokenless denial by default", async () => {
    const outcome = outcomeOf(await client.check({ path: '/closed' }));
    expect(outcome).toMatchObject({ status: 403, body: 'RBAC: access denied' });
    expect(outcome.headers['www-authenticate']).toBeUndefined();
  });

  it('answers 401 with a Bearer challenge when enabled, but 403 for a denied token holder', async () => {
    const other = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { challengeAnonymous: true });
    const otherClient = new ExtAuthzClient(`127.0.0.1:${other.filter.grpcPort}`);
    try {
      const anonymous = outcomeOf(await otherClient.check({ path: '/closed?access=x' }));
      expect(anonymous).toMatchObject({ status: 401, grpcCode: 16, body: 'Jwt is missing' });
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="http://app.example.com/closed"');
      const token = await mint(key, { iss: ISS, sub: 'alice' });
      const forbidden = outcomeOf(await otherClient.check({ path: '/closed', headers: { authorization: `Bearer ${token}` } }));
      expect(forbidden).toMatchObject({ status: 403, grpcCode: 7, body: 'RBAC: access denied' });
      expect(forbidden.headers['www-authenticate']).toBe('Bearer realm="http://app.example.com/closed", error="insufficient_scope"');
    } finally {
      otherClient.close();
      await other.close();
    }
  });
});
