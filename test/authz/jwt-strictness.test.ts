/**
 * JWT strictness through a running filter, over gRPC and every HTTP mode, for both signature paths:
 * a JWS `crit` header is refused (idgate understands no extension), every part must be strict
 * base64url (the verified-token cache included), and a token over 60 KiB is refused before it is
 * decoded. Each refusal is a 401 with reason jwt_invalid and the JwtError code on the audit line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import { JwtError, type JwtErrorCode } from '../../src/authz/jwt/jwt-error.js';
import { MAX_TOKEN_LENGTH } from '../../src/authz/jwt/parse-token.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, outcomeOf } from './helpers/grpc-client.js';
import { httpCheck } from './helpers/http-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const TRANSPORTS = ['grpc', 'envoy-http', 'nginx', 'traefik'] as const;
type Transport = (typeof TRANSPORTS)[number];

function policies(jwks: string): Record<string, string> {
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules:
  - issuer: ${ISS}
    jwks: ${JSON.stringify(jwks)}
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: authenticated, namespace: default }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
`,
  };
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** RS256 over any header, so a test can write headers jose's signer refuses to produce (a malformed crit). */
async function signRaw(key: TestKey, header: Record<string, unknown>, claims: JWTPayload): Promise<string> {
  const signingInput = `${encode(header)}.${encode(claims)}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}

function claims(extra: JWTPayload = {}): JWTPayload {
  return { iss: ISS, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600, ...extra };
}

function replacePart(token: string, index: number, part: string): string {
  const parts = token.split('.');
  parts[index] = part;
  return parts.join('.');
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes with an unused low bit of the last character set: a second, non-canonical spelling. */
function nonCanonical(segment: string): string {
  const last = B64URL.indexOf(segment.at(-1)!);
  return `${segment.slice(0, -1)}${B64URL[last ^ 1]}`;
}

/** A valid token whose length is within 4 characters of `limit`: at most it ('under'), or just past it ('over'). */
async function tokenNear(key: TestKey, limit: number, side: 'under' | 'over'): Promise<string> {
  const make = (pad: number) => mint(key, { iss: ISS, sub: 'alice', pad: 'p'.repeat(pad) });
  const [low, high] = side === 'under' ? [limit - 3, limit] : [limit + 1, limit + 4];
  let pad = Math.max(0, Math.floor(((limit - (await make(0)).length) * 3) / 4));
  for (;;) {
    const token = await make(pad);
    if (token.length >= low && token.length <= high) return token;
    pad += token.length > high ? -1 : 1; // one character of claim is 1 or 2 of base64url: the window cannot be jumped
  }
}

interface StrictnessCase {
  name: string;
  /** A valid token this case spoils; it is sent first (allowed, so it sits in the verified-token cache). */
  original?: string;
  token: string;
  code: JwtErrorCode;
}

const key = await testKey('k1');

async function strictnessCases(): Promise<StrictnessCase[]> {
  const header = { alg: 'RS256', kid: 'k1', typ: 'JWT' };
  const valid = await mint(key, { iss: ISS, sub: 'alice' });
  const [h, p, s] = valid.split('.') as [string, string, string];
  // A token whose signature has a "-" or "_", to respell it in standard base64 ("+", "/").
  let withDash = valid;
  for (let n = 0; !/[-_]/.test(withDash.split('.')[2]!); n++) withDash = await mint(key, { iss: ISS, sub: 'alice', n });
  return [
    { name: 'crit naming an unknown extension', token: await signRaw(key, { ...header, crit: ['x-unknown'], 'x-unknown': 1 }, claims()), code: 'ERR_JWT_CRIT' },
    { name: 'crit naming an extension the header does not carry', token: await signRaw(key, { ...header, crit: ['x-absent'] }, claims()), code: 'ERR_JWT_CRIT' },
    { name: 'an empty crit list', token: await signRaw(key, { ...header, crit: [] }, claims()), code: 'ERR_JWT_CRIT' },
    { name: 'crit that is not an array', token: await signRaw(key, { ...header, crit: 'x-unknown' }, claims()), code: 'ERR_JWT_CRIT' },
    { name: 'crit holding a non-string', token: await signRaw(key, { ...header, crit: [7] }, claims()), code: 'ERR_JWT_CRIT' },
    { name: 'crit naming a standard header', token: await signRaw(key, { ...header, crit: ['kid'] }, claims()), code: 'ERR_JWT_CRIT' },
    { name: 'crit: null', token: await signRaw(key, { ...header, crit: null }, claims()), code: 'ERR_JWT_CRIT' },
    // RFC 8725 §3.11: other JWTs the issuer signs must not pass as bearer tokens.
    { name: 'a signed introspection answer (typ token-introspection+jwt)', token: await signRaw(key, { ...header, typ: 'token-introspection+jwt' }, claims()), code: 'ERR_JWT_TYPE' },
    { name: 'a logout token (typ logout+jwt)', token: await signRaw(key, { ...header, typ: 'logout+jwt' }, claims()), code: 'ERR_JWT_TYPE' },
    { name: 'a DPoP proof (typ dpop+jwt)', token: await signRaw(key, { ...header, typ: 'dpop+jwt' }, claims()), code: 'ERR_JWT_TYPE' },
    { name: 'a security event token (typ application/secevent+jwt)', token: await signRaw(key, { ...header, typ: 'application/secevent+jwt' }, claims()), code: 'ERR_JWT_TYPE' },
    { name: 'a typ that is not a string', token: await signRaw(key, { ...header, typ: 7 }, claims()), code: 'ERR_JWT_TYPE' },
    { name: '"!" appended to the signature', original: valid, token: `${valid}!`, code: 'ERR_JWT_MALFORMED' },
    { name: '"!" inside the payload', original: valid, token: replacePart(valid, 1, `${p.slice(0, 4)}!${p.slice(4)}`), code: 'ERR_JWT_MALFORMED' },
    { name: '"!" inside the header', original: valid, token: replacePart(valid, 0, `${h.slice(0, 4)}!${h.slice(4)}`), code: 'ERR_JWT_MALFORMED' },
    { name: 'a space inside the signature', original: valid, token: replacePart(valid, 2, `${s.slice(0, 10)} ${s.slice(10)}`), code: 'ERR_JWT_MALFORMED' },
    { name: '"=" padding on the signature', original: valid, token: `${valid}==`, code: 'ERR_JWT_MALFORMED' },
    { name: '"=" padding on the payload', original: valid, token: replacePart(valid, 1, `${p}${'='.repeat(4 - (p.length % 4))}`), code: 'ERR_JWT_MALFORMED' },
    { name: 'a signature whose length is 1 mod 4', original: valid, token: `${valid}${'A'.repeat((5 - (s.length % 4)) % 4 || 4)}`, code: 'ERR_JWT_MALFORMED' },
    { name: 'a signature with non-zero unused bits', original: valid, token: replacePart(valid, 2, nonCanonical(s)), code: 'ERR_JWT_MALFORMED' },
    { name: 'standard base64 ("+", "/") in the signature', original: withDash, token: withDash.replace(/[^.]*$/, (sig) => sig.replaceAll('-', '+').replaceAll('_', '/')), code: 'ERR_JWT_MALFORMED' },
    // The original's header is now known (parse-token.ts keeps accepted headers): the signature still decides.
    { name: 'another payload under a header already accepted, with the original signature', original: valid, token: replacePart(valid, 1, encode(claims({ sub: 'mallory' }))), code: 'ERR_JWT_SIGNATURE' },
    { name: 'a signed token over 60 KiB', token: await tokenNear(key, MAX_TOKEN_LENGTH, 'over'), code: 'ERR_JWT_TOO_LARGE' },
    { name: 'over 60 KiB of anything (refused before it is decoded)', token: '!'.repeat(MAX_TOKEN_LENGTH + 1), code: 'ERR_JWT_TOO_LARGE' },
  ];
}

const cases = await strictnessCases();
const justUnderLimit = await tokenNear(key, MAX_TOKEN_LENGTH, 'under');

async function send(fixture: FilterFixture, client: ExtAuthzClient, transport: Transport, token: string, requestId: string) {
  const request = { path: '/api/orders', headers: { authorization: `Bearer ${token}` }, requestId };
  const outcome = transport === 'grpc' ? outcomeOf(await client.check(request)) : await httpCheck(fixture.filter.httpPort!, transport, request);
  const line = fixture.audit.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === requestId);
  return { status: outcome.status, body: outcome.body, audit: line };
}

describe.each(['node-crypto', 'jose'] as const)('JWT strictness (verifier %s)', (verifier) => {
  let fixture: FilterFixture;
  let client: ExtAuthzClient;

  beforeAll(async () => {
    fixture = await startFilterFixture(policies(JSON.stringify(jwksOf(key))), { verifier });
    client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
  });

  afterAll(async () => {
    client.close();
    await fixture.close();
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it('allows the unspoiled tokens (controls): raw-signed without crit, and one just under 60 KiB', async () => {
      const plain = await signRaw(key, { alg: 'RS256', kid: 'k1', typ: 'JWT' }, claims());
      expect((await send(fixture, client, transport, plain, `${verifier}-${transport}-plain`)).status).toBe(200);
      expect(justUnderLimit.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
      expect((await send(fixture, client, transport, justUnderLimit, `${verifier}-${transport}-under`)).status).toBe(200);
    });

    it.each(cases.map((c) => [c.name, c] as const))('refuses %s: 401 jwt_invalid, its code on the audit line', async (name, testCase) => {
      const id = `${verifier}-${transport}-${name}`;
      if (testCase.original) {
        // The valid original first: it is now in the verified-token cache, which must not vouch for the variant.
        expect((await send(fixture, client, transport, testCase.original, `${id}-original`)).status).toBe(200);
      }
      const { status, body, audit } = await send(fixture, client, transport, testCase.token, id);
      expect({ status, body, decision: audit?.decision, reason: audit?.reason, jwtError: audit?.jwtError, namespace: audit?.namespace }).toEqual({
        status: 401, body: new JwtError(testCase.code).message, decision: 'deny', reason: 'jwt_invalid', jwtError: testCase.code, namespace: 'default',
      });
    });
  });
});
