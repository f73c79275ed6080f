/**
 * DPoP-bound access tokens (cnf.jkt, RFC 9449) at the filter, over gRPC ext_authz and the three HTTP
 * modes: allowed only under `Authorization: DPoP` with a proof of the bound key for this request's
 * method and URL and this token, each §4.3 rule with its negative (replay, htm, htu, ath, iat either
 * way, another key, a bad signature, typ, alg, a private jwk), a bound token presented as Bearer, an
 * unbound token presented as DPoP; the challenge each failure answers with; a proof made by
 * openid-client; and the verified-token cache, which must not let a cached token skip its proof.
 */
import * as oidc from 'openid-client';
import { SignJWT, calculateJwkThumbprint, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkVia, closeGrpcClient, grpcClientOf, requestUrl, TRANSPORTS, type AnyRequest, type Transport } from './helpers/any-transport.js';
import { dpopKey, dpopProof, type DpopKey, type ProofOverrides } from './helpers/dpop.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { checkRequest, outcomeOf } from './helpers/grpc-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const ALGS = 'algs="ES256 RS256 PS256 EdDSA Ed25519"';

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
metadata: { name: api, namespace: default }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/api/*"] } }]
`,
  };
}

let issuerKey: TestKey;
let key: DpopKey;
let otherKey: DpopKey;
let fixture: FilterFixture;
/** A DPoP-bound token (cnf.jkt = key's thumbprint), and an unbound one. */
let bound: string;
let unbound: string;

beforeAll(async () => {
  issuerKey = await testKey('k1');
  key = await dpopKey('ES256');
  otherKey = await dpopKey('ES256');
  bound = await mint(issuerKey, { iss: ISS, sub: 'alice', cnf: { jkt: key.jkt } });
  unbound = await mint(issuerKey, { iss: ISS, sub: 'bob' });
  fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(issuerKey))));
});

afterAll(async () => {
  if (fixture) closeGrpcClient(fixture);
  await fixture?.close();
});

function lastAudit(): Record<string, unknown> {
  return JSON.parse(fixture.audit[fixture.audit.length - 1]!) as Record<string, unknown>;
}

/** A request for `path` with the token under the DPoP scheme and a proof made for it (overrides break one rule). */
async function dpopRequest(path: string, overrides: ProofOverrides = {}, signer: DpopKey = key, token = bound): Promise<AnyRequest> {
  const request: AnyRequest = { method: 'GET', path };
  return { ...request, headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(signer, 'GET', requestUrl(request), token, overrides) } };
}

describe.each(TRANSPORTS)('DPoP-bound token over %s', (transport: Transport) => {
  it('is allowed with a proof of the bound key for this request, and token and proof stop at the filter', async () => {
    const outcome = await checkVia(transport, fixture, await dpopRequest('/api/orders'));
    expect(outcome.status).toBe(200);
    expect(outcome.headers['x-idgate-request-principal']).toBe(`${ISS}/alice`);
    if (transport === 'grpc' || transport === 'envoy-http') expect(outcome.removed).toEqual(expect.arrayContaining(['authorization', 'dpop']));
    expect(lastAudit()).toMatchObject({ decision: 'allow', reason: 'allowed' });
  });

  it('refuses the same proof a second time (jti replay)', async () => {
    const request = await dpopRequest('/api/replay');
    expect((await checkVia(transport, fixture, request)).status).toBe(200);
    const replayed = await checkVia(transport, fixture, request);
    expect(replayed.status).toBe(401);
    expect(replayed.headers['www-authenticate']).toBe(`DPoP realm="${requestUrl(request)}", error="invalid_dpop_proof", error_description="the DPoP proof was already used", ${ALGS}`);
    expect(lastAudit()).toMatchObject({ decision: 'deny', status: 401, reason: 'dpop_proof_invalid', jwtError: 'ERR_DPOP_PROOF_REPLAYED' });
  });

  const proofFailures: Array<[string, ProofOverrides, string]> = [
    ['htm is another method', { htm: 'POST' }, 'ERR_DPOP_PROOF_HTM'],
    ['htu names another host', { htu: 'http://evil.example.com/api/x' }, 'ERR_DPOP_PROOF_HTU'],
    ['htu names another path', { htu: 'http://app.example.com/api/y' }, 'ERR_DPOP_PROOF_HTU'],
    ['htu names another scheme', { htu: 'https://app.example.com/api/x' }, 'ERR_DPOP_PROOF_HTU'],
    ['htu names another port', { htu: 'http://app.example.com:8080/api/x' }, 'ERR_DPOP_PROOF_HTU'],
    ['ath is the hash of another token', { ath: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg' }, 'ERR_DPOP_PROOF_ATH'],
    ['ath is missing', { ath: null }, 'ERR_DPOP_PROOF_MALFORMED'],
    ['jti is missing', { jti: '' }, 'ERR_DPOP_PROOF_MALFORMED'],
    ['iat is two minutes old (window 60 s)', { iatOffset: -120 }, 'ERR_DPOP_PROOF_IAT'],
    ['iat is two minutes ahead', { iatOffset: 120 }, 'ERR_DPOP_PROOF_IAT'],
    ['typ is JWT', { typ: 'JWT' }, 'ERR_DPOP_PROOF_TYPE'],
    ['the jwk carries the private key', { jwk: {} }, 'ERR_DPOP_PROOF_KEY'],
    ['header has crit (even one jose understands)', { header: { crit: ['b64'], b64: true } }, 'ERR_DPOP_PROOF_MALFORMED'],
  ];

  it.each(proofFailures)('refuses a proof whose %s', async (_name, overrides, code) => {
    // The private jwk case: the key's own public JWK plus its private scalar.
    const broken = overrides.jwk ? { ...overrides, jwk: { ...key.publicJwk, d: 'AAAA' } } : overrides;
    const request = await dpopRequest('/api/x', broken);
    const outcome = await checkVia(transport, fixture, request);
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toMatch(new RegExp(`^DPoP realm="http://app\\.example\\.com/api/x", error="invalid_dpop_proof", error_description="[^"]+", ${ALGS}$`));
    expect(lastAudit()).toMatchObject({ reason: 'dpop_proof_invalid', jwtError: code });
  });

  it('refuses a proof made with another key (the token is not bound to it)', async () => {
    const outcome = await checkVia(transport, fixture, await dpopRequest('/api/x', {}, otherKey));
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toBe(`DPoP realm="http://app.example.com/api/x", error="invalid_token", error_description="the DPoP proof key is not the key the token is bound to", ${ALGS}`);
    expect(lastAudit()).toMatchObject({ reason: 'token_binding', jwtError: 'ERR_DPOP_KEY_MISMATCH' });
  });

  it('refuses a proof that names the bound key but is signed by another', async () => {
    const outcome = await checkVia(transport, fixture, await dpopRequest('/api/x', { jwk: key.publicJwk }, otherKey));
    expect(outcome.status).toBe(401);
    expect(lastAudit()).toMatchObject({ reason: 'dpop_proof_invalid', jwtError: 'ERR_DPOP_PROOF_SIGNATURE' });
  });

  it('refuses the token without a proof, and with two', async () => {
    expect((await checkVia(transport, fixture, { path: '/api/x', headers: { authorization: `DPoP ${bound}` } })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_MISSING' });
    const request = await dpopRequest('/api/x');
    const second = await dpopProof(key, 'GET', requestUrl(request), bound);
    expect((await checkVia(transport, fixture, { ...request, headers: { ...request.headers, dpop: `${request.headers!.dpop}, ${second}` } })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_MULTIPLE' });
  });

  it('refuses the DPoP-bound token presented as a Bearer token, even with a valid proof', async () => {
    const request = await dpopRequest('/api/x');
    const outcome = await checkVia(transport, fixture, { ...request, headers: { ...request.headers, authorization: `Bearer ${bound}` } });
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toBe('Bearer realm="http://app.example.com/api/x", error="invalid_token", error_description="the token is DPoP-bound: send it with Authorization: DPoP and a DPoP proof"');
    expect(lastAudit()).toMatchObject({ reason: 'token_binding', jwtError: 'ERR_DPOP_BOUND_AS_BEARER' });
    // Nor in the access_token query parameter.
    expect((await checkVia(transport, fixture, { path: `/api/x?access_token=${bound}`, headers: { dpop: request.headers!.dpop! } })).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_BOUND_AS_BEARER' });
  });

  it('refuses an unbound token presented under the DPoP scheme, which is allowed as Bearer', async () => {
    const request = await dpopRequest('/api/x', {}, key, unbound);
    const outcome = await checkVia(transport, fixture, request);
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toContain('DPoP realm="http://app.example.com/api/x", error="invalid_token"');
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_NOT_BOUND' });
    expect((await checkVia(transport, fixture, { path: '/api/x', headers: { authorization: `Bearer ${unbound}` } })).status).toBe(200);
  });

  it('compares htu after normalization: case, default port, dot segments and escapes; query and fragment ignored', async () => {
    const request: AnyRequest = { method: 'GET', path: '/api/items?page=2' };
    const htu = 'HTTP://App.Example.COM:80/api/./x/../%69tems?other=1#frag';
    const outcome = await checkVia(transport, fixture, { ...request, headers: { authorization: `DPoP ${bound}`, dpop: await dpopProof(key, 'GET', htu, bound) } });
    expect(outcome.status).toBe(200);
  });
});

describe('DPoP proofs, algorithms and cnf', () => {
  it.each(['RS256', 'PS256', 'EdDSA'] as const)('accepts a %s proof key', async (alg) => {
    const algKey = await dpopKey(alg);
    const token = await mint(issuerKey, { iss: ISS, sub: 'carol', cnf: { jkt: algKey.jkt } });
    expect((await checkVia('grpc', fixture, await dpopRequest('/api/x', {}, algKey, token))).status).toBe(200);
  });

  it('refuses proofs with alg none or an HMAC, whatever they carry', async () => {
    const request = { path: '/api/x' };
    const claims = { jti: 'j-none', htm: 'GET', htu: requestUrl(request), iat: Math.floor(Date.now() / 1000) };
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${enc({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${enc(claims)}.`;
    const hs256 = await new SignJWT({ ...claims, jti: 'j-hs' }).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk }).sign(new TextEncoder().encode('k'.repeat(32)));
    for (const proof of [none, hs256]) {
      expect((await checkVia('grpc', fixture, { ...request, headers: { authorization: `DPoP ${bound}`, dpop: proof } })).status).toBe(401);
      expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_ALG' });
    }
  });

  it('refuses a token whose cnf names a confirmation method the filter cannot check', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'dave', cnf: { jwk: key.publicJwk } });
    const outcome = await checkVia('grpc', fixture, { path: '/api/x', headers: { authorization: `Bearer ${token}` } });
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toContain('Bearer realm="http://app.example.com/api/x", error="invalid_token"');
    expect(lastAudit()).toMatchObject({ reason: 'token_binding', jwtError: 'ERR_CNF_UNSUPPORTED' });
  });

  it('checks the proof on every request of a cached token (signature verified once, binding every time)', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'erin', cnf: { jkt: key.jkt } });
    expect((await checkVia('grpc', fixture, await dpopRequest('/api/x', {}, key, token))).status).toBe(200);
    // The token is in the verified-token cache now; its binding is not.
    expect((await checkVia('grpc', fixture, await dpopRequest('/api/x', {}, otherKey, token))).status).toBe(401);
    expect((await checkVia('grpc', fixture, { path: '/api/x', headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await checkVia('grpc', fixture, await dpopRequest('/api/x', { htm: 'DELETE' }, key, token))).status).toBe(401);
    expect((await checkVia('grpc', fixture, await dpopRequest('/api/x', {}, key, token))).status).toBe(200);
  });

  it('never writes the token or the proof in the audit line', async () => {
    const request = await dpopRequest('/api/x?q=1');
    await checkVia('grpc', fixture, request);
    const line = fixture.audit[fixture.audit.length - 1]!;
    expect(line).not.toContain(bound.split('.')[2]);
    expect(line).not.toContain(request.headers!.dpop!.split('.')[2]);
  });
});

/**
 * The request openid-client makes for `method url` with a fresh DPoP key of `alg` and a token bound to
 * it, as Envoy would hand it to the filter after receiving it over TLS.
 */
async function openidClientRequest(alg: string, method: string, url: string): Promise<{ token: string; headers: Record<string, string>; message: Record<string, unknown> }> {
  const keyPair = await oidc.randomDPoPKeyPair(alg);
  const token = await mint(issuerKey, { iss: ISS, sub: `rp-${alg}`, cnf: { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256') } });
  const config = new oidc.Configuration({ issuer: ISS }, 'shop-app');
  let headers: Record<string, string> = {};
  config[oidc.customFetch] = async (_url, options) => {
    headers = Object.fromEntries(new Headers(options.headers as Record<string, string>).entries());
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  };
  await oidc.fetchProtectedResource(config, token, new URL(url), method, undefined, undefined, { DPoP: oidc.getDPoPHandle(config, keyPair) });
  const { pathname, search } = new URL(url);
  const message = checkRequest({ method, path: `${pathname}${search}`, headers: { ':scheme': 'https', authorization: headers.authorization!, dpop: headers.dpop! } }) as { attributes: { request: { http: { scheme: string } } } };
  message.attributes.request.http.scheme = 'https';
  return { token, headers, message };
}

describe('a proof made by openid-client (fetchProtectedResource with a DPoP handle)', () => {
  it('is accepted over gRPC for the URL and method it was made for, and only once', async () => {
    const { token, headers, message } = await openidClientRequest('ES256', 'POST', 'https://app.example.com/api/orders?page=1');
    expect(headers.authorization).toBe(`DPoP ${token}`);
    const client = grpcClientOf(fixture);
    expect(outcomeOf(await client.check(message)).status).toBe(200);
    expect(outcomeOf(await client.check(message)).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_REPLAYED' });
  });

  it('with an Ed25519 key signs as alg "Ed25519" (RFC 9864), accepted like EdDSA', async () => {
    const { headers, message } = await openidClientRequest('Ed25519', 'GET', 'https://app.example.com/api/x');
    expect(JSON.parse(Buffer.from(headers.dpop!.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'Ed25519' });
    expect(outcomeOf(await grpcClientOf(fixture).check(message)).status).toBe(200);
  });
});

describe('with filter.verifier: jose', () => {
  let joseFixture: FilterFixture;
  beforeAll(async () => {
    joseFixture = await startFilterFixture(policies(JSON.stringify(jwksOf(issuerKey))), { verifier: 'jose' });
  });
  afterAll(async () => {
    if (joseFixture) closeGrpcClient(joseFixture);
    await joseFixture?.close();
  });

  it('verifies proofs through jose with the same rules', async () => {
    expect((await checkVia('grpc', joseFixture, await dpopRequest('/api/x'))).status).toBe(200);
    const edKey = await dpopKey('EdDSA');
    const edToken = await mint(issuerKey, { iss: ISS, sub: 'heidi', cnf: { jkt: edKey.jkt } });
    expect((await checkVia('grpc', joseFixture, await dpopRequest('/api/x', { header: { alg: 'Ed25519' } }, edKey, edToken))).status).toBe(200);
    expect((await checkVia('grpc', joseFixture, await dpopRequest('/api/x', { jwk: key.publicJwk }, otherKey))).status).toBe(401);
    const line = JSON.parse(joseFixture.audit[joseFixture.audit.length - 1]!) as Record<string, unknown>;
    expect(line).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_SIGNATURE' });
  });
});
