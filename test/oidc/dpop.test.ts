/**
 * RFC 9449 at the issuer. oauth4webapi's DPoP handle drives the code flow of a public client through
 * the real login pages, the refresh (its family bound to the key) and /userinfo; the other grants
 * (client_credentials, device, token exchange) get DPoP-bound tokens too. Hand-made proofs (jose)
 * break one rule each: replay (also at a second replica on the same storage), htm, htu, iat either
 * way, the algorithm, typ, two proofs, another key than the refresh token's, a DPoP-bound token as
 * Bearer or with a wrong ath, a missing proof for a dpopBoundAccessTokens client.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIssuer, type Issuer } from '../../src/issuer.js';
import { memoryAuditLog } from '../../src/telemetry/audit.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { actAsPerson, DEVICE_GRANT, requestDeviceCodes } from '../helpers/device.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const MACHINE = { id: 'machine', secret: 'bWFjaGluZS1jbGllbnQtc2VjcmV0LXZhbHVl' };
const DPOP_ONLY = { id: 'dpop-only', secret: 'ZHBvcC1vbmx5LWNsaWVudC1zZWNyZXQtdmFsdWU' };
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** The default test issuer, with two more clients: one for the client's own grants, one that needs DPoP. */
const CONFIG = DEFAULT_TEST_CONFIG.replace('\nconnectors:', `
  - id: ${MACHINE.id}
    name: Machine
    secret: ${MACHINE.secret}
    grantTypes: [client_credentials, ${EXCHANGE}]
  - id: ${DPOP_ONLY.id}
    name: DPoP only
    secret: ${DPOP_ONLY.secret}
    dpopBoundAccessTokens: true
    grantTypes: [client_credentials]
connectors:`);

let idp: TestIssuer;
let as: oauth.AuthorizationServer;
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const PUBLIC_CLIENT: oauth.Client = { client_id: PUBLIC_APP.id };

beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: CONFIG });
  const issuer = new URL(idp.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
});
afterAll(async () => {
  await idp?.close();
});

interface ProofKey {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  jkt: string;
}

async function proofKey(): Promise<ProofKey> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { ...pair, jkt: await calculateJwkThumbprint(await exportJWK(pair.publicKey)) };
}

/** A proof by `key` for POST /token unless the claims say otherwise; `header` overrides the JOSE header. */
async function proof(key: ProofKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: `${idp.url}/token`, iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey), ...header })
    .sign(key.privateKey);
}

async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

function machineToken(dpop?: string, client = MACHINE, base = idp.url) {
  return post(`${base}/token`, { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }, dpop ? { dpop } : {});
}

async function codeFlow(dpop: oauth.DPoPHandle): Promise<oauth.TokenEndpointResponse> {
  const client = PUBLIC_CLIENT;
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: PUBLIC_APP.redirectURI, response_type: 'code', scope: 'openid email offline_access',
    state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: 'local',
  }).toString();
  const landing = await followLogin(url.toString(), { redirectURI: PUBLIC_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
  const params = oauth.validateAuthResponse(as, client, landing, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, PUBLIC_APP.redirectURI, verifier, { ...insecure, DPoP: dpop });
  return oauth.processAuthorizationCodeResponse(as, client, response);
}

function refresh(refreshToken: string, dpop?: oauth.DPoPHandle): Promise<oauth.TokenEndpointResponse> {
  const client = PUBLIC_CLIENT;
  return oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, { ...insecure, ...(dpop && { DPoP: dpop }) })
    .then((response) => oauth.processRefreshTokenResponse(as, client, response));
}

describe('DPoP at the issuer (RFC 9449)', () => {
  it('advertises the proof algorithms', () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']);
  });

  it('code flow, refresh and /userinfo with oauth4webapi: DPoP-bound tokens (cnf.jkt, token_type DPoP) all the way', async () => {
    const keys = await oauth.generateKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    const dpop = oauth.DPoP(PUBLIC_CLIENT, keys);
    const tokens = await codeFlow(dpop);
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });
    const refreshed = await refresh(tokens.refresh_token!, dpop);
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });
    const client = PUBLIC_CLIENT;
    const response = await oauth.userInfoRequest(as, client, refreshed.access_token, { ...insecure, DPoP: dpop });
    const sub = decodeJwt(refreshed.access_token).sub!;
    expect(await oauth.processUserInfoResponse(as, client, sub, response)).toMatchObject({ sub, email: ADMIN.email });
  });

  it("binds a public client's refresh token to the key: refused without a proof and with another key's", async () => {
    const dpop = oauth.DPoP(PUBLIC_CLIENT, await oauth.generateKeyPair('ES256'));
    const tokens = await codeFlow(dpop);
    const other = oauth.DPoP(PUBLIC_CLIENT, await oauth.generateKeyPair('ES256'));
    await expect(refresh(tokens.refresh_token!, other)).rejects.toMatchObject({
      error: 'invalid_grant', error_description: 'the refresh token is bound to another DPoP key than the one that signed this proof',
    });
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant', error_description: 'the refresh token is bound to a DPoP key: send a DPoP proof signed with it',
    });
    expect((await refresh(tokens.refresh_token!, dpop)).token_type).toBe('dpop');
  });

  it('/userinfo holds a DPoP-bound token to its proof: not as Bearer, not without a proof, not by another key, not for another token (ath), not twice', async () => {
    const key = await proofKey();
    const tokens = await codeFlow(oauth.DPoP(PUBLIC_CLIENT, key));
    const token = tokens.access_token;
    const ath = createHash('sha256').update(token).digest('base64url');
    const userinfo = `${idp.url}/userinfo`;
    const call = (headers: Record<string, string>) => fetch(userinfo, { headers });
    const good = await proof(key, { htm: 'GET', htu: userinfo, ath });
    expect((await call({ authorization: `DPoP ${token}`, dpop: good })).status).toBe(200);
    const cases: Array<[string, Record<string, string>, string]> = [
      ['as Bearer', { authorization: `Bearer ${token}` }, 'DPoP realm="idgate", error="invalid_token", error_description="the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof"'],
      ['without a proof', { authorization: `DPoP ${token}` }, 'DPoP realm="idgate", error="invalid_dpop_proof", error_description="a DPoP proof is required with a DPoP-bound access token"'],
      ['replayed', { authorization: `DPoP ${token}`, dpop: good }, 'DPoP realm="idgate", error="invalid_dpop_proof", error_description="the DPoP proof was already used (its jti was seen before)"'],
      ['another key', { authorization: `DPoP ${token}`, dpop: await proof(await proofKey(), { htm: 'GET', htu: userinfo, ath }) }, 'DPoP realm="idgate", error="invalid_token", error_description="the DPoP proof is signed by another key than the one the access token is bound to"'],
      ['wrong ath', { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: userinfo, ath: 'x'.repeat(43) }) }, `DPoP realm="idgate", error="invalid_dpop_proof", error_description="the DPoP proof's ath is not the hash of the access token it comes with"`],
      ['no ath', { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: userinfo }) }, `DPoP realm="idgate", error="invalid_dpop_proof", error_description="the DPoP proof's ath is not the hash of the access token it comes with"`],
    ];
    for (const [name, headers, challenge] of cases) {
      const response = await call(headers);
      expect(response.status, name).toBe(401);
      expect(response.headers.get('www-authenticate'), name).toBe(`${challenge}, algs="RS256 PS256 ES256 EdDSA Ed25519"`);
    }
    const bearer = (await machineToken()).body.access_token as string;
    const asDpop = await call({ authorization: `DPoP ${bearer}`, dpop: await proof(key, { htm: 'GET', htu: userinfo }) });
    expect(asDpop.status).toBe(401);
    expect(asDpop.headers.get('www-authenticate')).toContain('error_description="the access token is not DPoP-bound: present it with the Bearer scheme"');
  });

  it('client_credentials with a proof: a DPoP-bound token; without one, a Bearer token', async () => {
    const key = await proofKey();
    const bound = await machineToken(await proof(key));
    expect(bound).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
    expect(decodeJwt(bound.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
    const bearer = await machineToken();
    expect(bearer.body.token_type).toBe('Bearer');
    expect(decodeJwt(bearer.body.access_token as string).cnf).toBeUndefined();
  });

  it('refuses a proof that breaks a rule, each with invalid_dpop_proof and the reason', async () => {
    const key = await proofKey();
    const now = Math.floor(Date.now() / 1000);
    const replayed = await proof(key);
    expect((await machineToken(replayed)).status).toBe(200);
    const hmac = await new SignJWT({ jti: randomUUID(), htm: 'POST', htu: `${idp.url}/token`, iat: now })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as never }).sign(new TextEncoder().encode('s'.repeat(32)));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: 'x', htm: 'POST', htu: `${idp.url}/token`, iat: now })).toString('base64url')}.`;
    const cases: Array<[string, string, string]> = [
      ['replayed', replayed, 'the DPoP proof was already used (its jti was seen before)'],
      ['wrong htm', await proof(key, { htm: 'GET' }), "the DPoP proof's htm is not this request's method (POST)"],
      ['wrong htu', await proof(key, { htu: `${idp.url}/userinfo` }), `the DPoP proof's htu is not this request's URL (${idp.url}/token)`],
      ['another host', await proof(key, { htu: 'https://evil.example/dex/token' }), `the DPoP proof's htu is not this request's URL (${idp.url}/token)`],
      ['expired iat', await proof(key, { iat: now - 120 }), 'the DPoP proof is too old (its iat is more than 60 s ago)'],
      ['future iat', await proof(key, { iat: now + 120 }), "the DPoP proof's iat is in the future (more than 60 s ahead)"],
      ['no jti', await proof(key, { jti: undefined }), 'the DPoP proof has no jti'],
      ['typ JWT', await proof(key, {}, { typ: 'JWT' }), 'the DPoP proof must have typ "dpop+jwt"'],
      ['HS256', hmac, 'the DPoP proof\'s alg is not accepted (accepted: RS256, PS256, ES256, EdDSA, Ed25519)'],
      ['alg none', unsigned, 'the DPoP proof\'s alg is not accepted (accepted: RS256, PS256, ES256, EdDSA, Ed25519)'],
      ['signed by another key than its jwk', await proof(key, {}, { jwk: await exportJWK((await proofKey()).publicKey) }), 'the DPoP proof signature is invalid'],
      ['two proofs', `${await proof(key)}, ${await proof(key)}`, 'send one DPoP header, not several'],
      ['not a JWT', 'garbage', 'the DPoP proof is not a valid JWT signed by the key in its header (ERR_JWS_INVALID)'],
    ];
    for (const [name, dpop, description] of cases) {
      expect(await machineToken(dpop), name).toMatchObject({ status: 400, body: { error: 'invalid_dpop_proof', error_description: description } });
    }
  });

  it('a dpopBoundAccessTokens client gets tokens only with a proof', async () => {
    expect(await machineToken(undefined, DPOP_ONLY)).toMatchObject({
      status: 400, body: { error: 'invalid_dpop_proof', error_description: 'client "dpop-only" gets DPoP-bound tokens only (dpopBoundAccessTokens): send a DPoP proof' },
    });
    expect(await machineToken(await proof(await proofKey()), DPOP_ONLY)).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
  });

  it('device flow and token exchange give DPoP-bound access tokens too', async () => {
    const key = await proofKey();
    const codes = await requestDeviceCodes(idp.url);
    await actAsPerson(idp.url, codes.verification_uri_complete);
    const device = await post(`${idp.url}/token`, { grant_type: DEVICE_GRANT, device_code: codes.device_code, client_id: EXAMPLE_APP.id, client_secret: EXAMPLE_APP.secret }, { dpop: await proof(key) });
    expect(device).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
    expect(decodeJwt(device.body.access_token as string).cnf).toEqual({ jkt: key.jkt });

    const subject = (await machineToken()).body.access_token as string;
    const exchanged = await post(`${idp.url}/token`, {
      grant_type: EXCHANGE, client_id: MACHINE.id, client_secret: MACHINE.secret,
      subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    }, { dpop: await proof(key) });
    expect(exchanged).toMatchObject({ status: 200, body: { token_type: 'DPoP', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } });
    expect(decodeJwt(exchanged.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('introspection reports cnf.jkt and token_type DPoP', async () => {
    const key = await proofKey();
    const token = (await machineToken(await proof(key))).body.access_token as string;
    const answer = await post(`${idp.url}/token/introspect`, { token, client_id: MACHINE.id, client_secret: MACHINE.secret });
    expect(answer.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });
});

describe('DPoP proofs across replicas', () => {
  let replica: Issuer;
  let server: http.Server;
  let replicaURL: string;

  beforeAll(async () => {
    replica = await buildIssuer(idp.config, { logger: silentLogger(), storage: idp.storage, audit: memoryAuditLog() });
    server = http.createServer(replica.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    replicaURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dex`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await replica?.close();
  });

  it('a proof used at one replica is refused at another that shares its storage', async () => {
    const dpop = await proof(await proofKey());
    expect((await machineToken(dpop)).status).toBe(200);
    expect(await machineToken(dpop, MACHINE, replicaURL)).toMatchObject({
      status: 400, body: { error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used (its jti was seen before)' },
    });
    // The same replica takes a fresh proof for the issuer URL (htu names the issuer, not the replica's address).
    expect((await machineToken(await proof(await proofKey()), MACHINE, replicaURL)).status).toBe(200);
  });
});

describe('DPoP server nonces (oauth2.dpop.requireNonce)', () => {
  let nonceIdp: TestIssuer;

  beforeAll(async () => {
    nonceIdp = await startTestIssuer({ configYaml: CONFIG.replace('oauth2:\n', 'oauth2:\n  dpop: { requireNonce: true, nonceLifetime: 1m }\n') });
  });
  afterAll(async () => {
    await nonceIdp?.close();
  });

  const nonceProof = (key: ProofKey, claims: Record<string, unknown> = {}) => proof(key, { htu: `${nonceIdp.url}/token`, ...claims });

  it('answers use_dpop_nonce with a DPoP-Nonce until the proof carries it, then issues', async () => {
    const key = await proofKey();
    const first = await machineToken(await nonceProof(key), MACHINE, nonceIdp.url);
    expect(first).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce', error_description: 'the DPoP proof must carry the nonce in DPoP-Nonce' } });
    const nonce = first.headers.get('dpop-nonce')!;
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]{22}$/);
    const stale = await machineToken(await nonceProof(key, { nonce: `${nonce}x` }), MACHINE, nonceIdp.url);
    expect(stale).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce', error_description: 'the DPoP nonce is stale or not ours: use the one in DPoP-Nonce' } });
    expect(stale.headers.get('dpop-nonce')).toBe(nonce);
    const second = await machineToken(await nonceProof(key, { nonce }), MACHINE, nonceIdp.url);
    expect(second).toMatchObject({ status: 200, body: { token_type: 'DPoP' } });
  });

  it("oauth4webapi's DPoP handle retries with the nonce it was given, and /userinfo asks for it with a DPoP challenge", async () => {
    const issuer = new URL(nonceIdp.url);
    const server = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    const client: oauth.Client = { client_id: MACHINE.id };
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const grant = () => oauth.clientCredentialsGrantRequest(server, client, oauth.ClientSecretPost(MACHINE.secret), {}, { ...insecure, DPoP: dpop })
      .then((response) => oauth.processClientCredentialsResponse(server, client, response));
    const refused = await grant().then(() => undefined, (error: unknown) => error);
    expect(oauth.isDPoPNonceError(refused)).toBe(true);
    const tokens = await grant();
    expect(tokens.token_type).toBe('dpop');

    const key = await proofKey();
    const token = (await machineToken(await nonceProof(key, { nonce: (await machineToken(await nonceProof(key), MACHINE, nonceIdp.url)).headers.get('dpop-nonce') }), MACHINE, nonceIdp.url)).body.access_token as string;
    const ath = createHash('sha256').update(token).digest('base64url');
    const userinfo = await fetch(`${nonceIdp.url}/userinfo`, { headers: { authorization: `DPoP ${token}`, dpop: await proof(key, { htm: 'GET', htu: `${nonceIdp.url}/userinfo`, ath }) } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toContain('DPoP realm="idgate", error="use_dpop_nonce"');
    expect(userinfo.headers.get('dpop-nonce')).toMatch(/^\d+\./);
  });
});
