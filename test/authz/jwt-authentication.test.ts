/**
 * JWT authentication with Istio's RequestAuthentication outcomes, the same negative tests for both
 * signature paths (node:crypto with strict alg-to-key binding, and jose), and the verified-token cache.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseFilterConfig } from '../../src/authz/config.js';
import { Authenticator, type Authentication } from '../../src/authz/jwt/authenticate.js';
import type { JwtErrorCode } from '../../src/authz/jwt/jwt-error.js';
import type { ScopedJwtRule } from '../../src/authz/policy/policy-set.js';
import { manualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { jwksOf, mint, tamper, testKey, unsignedToken } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const [rsa, ec, ps, ed, stranger] = await Promise.all([testKey('rsa'), testKey('ec', 'ES256'), testKey('ps', 'PS256'), testKey('ed', 'EdDSA'), testKey('rsa')]);
const jwks = JSON.stringify(jwksOf(rsa, ec, ps, ed));

async function authenticator(verifier: 'node-crypto' | 'jose', extra: Record<string, unknown> = {}, now = Date.now) {
  const config = parseFilterConfig({ verifier, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'], ...extra });
  const auth = new Authenticator({ config, logger: silentLogger(), now });
  return auth;
}

function rules(rule: Partial<ScopedJwtRule['rule']> = {}): ScopedJwtRule[] {
  return [{ source: 'test', rule: { issuer: ISS, jwks, ...rule } }];
}

async function run(auth: Authenticator, token: string, scoped = rules()): Promise<Authentication> {
  await auth.prepare(scoped);
  return auth.authenticate({ headers: { authorization: `Bearer ${token}` }, path: '/' }, scoped);
}

function failure(result: Authentication): { code: JwtErrorCode; status: number } | undefined {
  return result.kind === 'failed' ? { code: result.error.code, status: result.error.status } : undefined;
}

describe.each(['node-crypto', 'jose'] as const)('JWT verification (%s path)', (verifier) => {
  it.each([rsa, ec, ps, ed])('accepts a token signed with the $alg key', async (key) => {
    const result = await run(await authenticator(verifier), await mint(key, { iss: ISS, sub: 'u' }));
    expect(result.kind).toBe('authenticated');
  });

  it.each<[string, () => Promise<string>, JwtErrorCode]>([
    ['an expired token', () => mint(rsa, { iss: ISS, sub: 'u' }, { expiresIn: -61 }), 'ERR_JWT_EXPIRED'],
    ['a token not yet valid', () => mint(rsa, { iss: ISS, sub: 'u' }, { notBefore: 120 }), 'ERR_JWT_NOT_YET_VALID'],
    ['a tampered payload', async () => tamper(await mint(rsa, { iss: ISS, sub: 'u' }), { iss: ISS, sub: 'admin' }), 'ERR_JWT_SIGNATURE'],
    ['a token signed by another key with the same kid', () => mint(stranger, { iss: ISS, sub: 'u' }), 'ERR_JWT_SIGNATURE'],
    ['an unsigned token (alg none, no signature)', async () => unsignedToken({ iss: ISS, sub: 'u' }), 'ERR_JWT_MALFORMED'],
    ['alg none with a signature', async () => `${unsignedToken({ iss: ISS, sub: 'u' })}c2ln`, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['an ES256 header naming an RSA key', () => mint(ec, { iss: ISS, sub: 'u' }, { kid: 'rsa' }), 'ERR_JWKS_NO_MATCHING_KEY'],
    ['an RS256 header naming the PS256-only key', () => mint(rsa, { iss: ISS, sub: 'u' }, { kid: 'ec', alg: 'RS256' }), 'ERR_JWKS_NO_MATCHING_KEY'],
    ['an unknown kid', () => mint(rsa, { iss: ISS, sub: 'u' }, { kid: 'other' }), 'ERR_JWKS_NO_MATCHING_KEY'],
    ['an unconfigured issuer', () => mint(rsa, { iss: 'https://elsewhere', sub: 'u' }), 'ERR_JWT_ISSUER_NOT_CONFIGURED'],
    ['two segments', async () => 'a.b', 'ERR_JWT_MALFORMED'],
    ['a payload that is not JSON', async () => 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln', 'ERR_JWT_MALFORMED'],
  ])('rejects %s with 401', async (_name, token, code) => {
    expect(failure(await run(await authenticator(verifier), await token()))).toEqual({ code, status: 401 });
  });

  it('rejects an algorithm outside the allow-list', async () => {
    const auth = await authenticator(verifier, { algorithms: ['RS256'] });
    expect(failure(await run(auth, await mint(ec, { iss: ISS, sub: 'u' })))?.code).toBe('ERR_JWT_ALG_NOT_ALLOWED');
  });

  it('answers 403 for an audience not allowed, and accepts one of several', async () => {
    const auth = await authenticator(verifier);
    const scoped = rules({ audiences: ['a', 'b'] });
    expect(failure(await run(auth, await mint(rsa, { iss: ISS, sub: 'u', aud: 'c' }), scoped))).toEqual({ code: 'ERR_JWT_AUDIENCE', status: 403 });
    expect((await run(auth, await mint(rsa, { iss: ISS, sub: 'u', aud: ['x', 'b'] }), scoped)).kind).toBe('authenticated');
  });
});

describe('token location', () => {
  it('is anonymous without a token', async () => {
    const auth = await authenticator('node-crypto');
    await auth.prepare(rules());
    expect((await auth.authenticate({ headers: {}, path: '/' }, rules())).kind).toBe('anonymous');
  });

  it('reads the access_token query parameter by default', async () => {
    const auth = await authenticator('node-crypto');
    await auth.prepare(rules());
    const token = await mint(rsa, { iss: ISS, sub: 'u' });
    expect((await auth.authenticate({ headers: {}, path: `/x?access_token=${token}` }, rules())).kind).toBe('authenticated');
  });

  it('reads fromCookies and fromParams, and no longer the defaults', async () => {
    const auth = await authenticator('node-crypto');
    const scoped = rules({ fromCookies: ['session'], fromParams: ['t'] });
    await auth.prepare(scoped);
    const token = await mint(rsa, { iss: ISS, sub: 'u' });
    expect((await auth.authenticate({ headers: { cookie: `a=1; session=${token}` }, path: '/' }, scoped)).kind).toBe('authenticated');
    expect((await auth.authenticate({ headers: {}, path: `/?t=${token}` }, scoped)).kind).toBe('authenticated');
    expect((await auth.authenticate({ headers: { authorization: `Bearer ${token}` }, path: '/' }, scoped)).kind).toBe('anonymous');
  });
});

describe('verified-token cache', () => {
  it('keeps a verified token until exp, then verifies again (and the skew no longer covers it)', async () => {
    const clock = manualClock(Date.now());
    const auth = await authenticator('node-crypto', {}, clock);
    const token = await mint(rsa, { iss: ISS, sub: 'u' }, { expiresIn: 10, now: clock() });
    expect((await run(auth, token)).kind).toBe('authenticated');
    clock.advance(75_000);
    expect(failure(await run(auth, token))?.code).toBe('ERR_JWT_EXPIRED');
  });

  it('serves a cached token without verifying it again', async () => {
    const clock = manualClock(Date.now());
    const auth = await authenticator('node-crypto', {}, clock);
    const token = await mint(rsa, { iss: ISS, sub: 'u' }, { now: clock() });
    expect((await run(auth, token)).kind).toBe('authenticated');
    // Same issuer, keys gone: only the cache can still accept the token.
    const noKeys = rules({ jwks: JSON.stringify({ keys: [] }) });
    await auth.prepare(noKeys);
    expect((await auth.authenticate({ headers: { authorization: `Bearer ${token}` }, path: '/' }, noKeys)).kind).toBe('failed');
    // ...because a different key source is not trusted with another source's cache entry.
    expect((await run(auth, token)).kind).toBe('authenticated');
  });

  it('admits a token on its second verification: one presented once takes no entry', async () => {
    const auth = await authenticator('node-crypto');
    const cache = (auth as unknown as { cache: { size: number } }).cache;
    const token = await mint(rsa, { iss: ISS, sub: 'once' });
    expect(await run(auth, token)).toMatchObject({ kind: 'authenticated', kept: false });
    expect(cache.size).toBe(0);
    expect(await run(auth, token)).toMatchObject({ kind: 'authenticated', kept: true });
    expect(cache.size).toBe(1);
    expect(await run(auth, token)).toMatchObject({ kind: 'authenticated', kept: true });
    expect(cache.size).toBe(1);
  });

  it('is bounded: the oldest entry goes first', async () => {
    const auth = await authenticator('node-crypto', { tokenCache: { maxEntries: 2 } });
    for (const sub of ['a', 'b', 'c']) {
      const token = await mint(rsa, { iss: ISS, sub });
      for (let use = 0; use < 2; use++) await run(auth, token);
    }
    expect((auth as unknown as { cache: { size: number } }).cache.size).toBe(2);
  });

  it('is bounded by tokenCache.maxBytes, and a token too large for the budget still authenticates, uncached', async () => {
    const auth = await authenticator('node-crypto', { tokenCache: { maxBytes: 64 * 1024 } });
    const cache = (auth as unknown as { cache: { size: number; bytes: number } }).cache;
    for (const sub of ['a', 'b', 'c', 'd']) {
      const token = await mint(rsa, { iss: ISS, sub, blob: 'x'.repeat(10_000) });
      for (let use = 0; use < 2; use++) expect((await run(auth, token)).kind).toBe('authenticated');
    }
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(cache.size).toBe(2);
    const huge = await mint(rsa, { iss: ISS, sub: 'e', blob: 'x'.repeat(40_000) });
    for (let use = 0; use < 2; use++) expect((await run(auth, huge)).kind).toBe('authenticated');
    expect(cache.size).toBe(2);
  });
});

describe('strict token reading', () => {
  it.each(['node-crypto', 'jose'] as const)('refuses crit, loose base64url and oversized tokens before verifying (%s)', async (verifier) => {
    const auth = await authenticator(verifier);
    const token = await mint(rsa, { iss: ISS, sub: 'u' });
    for (let use = 0; use < 2; use++) expect((await run(auth, token)).kind).toBe('authenticated');
    // The original is cached now: its respellings are not.
    expect(failure(await run(auth, `${token}!`))).toEqual({ code: 'ERR_JWT_MALFORMED', status: 401 });
    expect(failure(await run(auth, `${token}==`))).toEqual({ code: 'ERR_JWT_MALFORMED', status: 401 });
    const crit = await new SignJWT({ iss: ISS, sub: 'u' }).setProtectedHeader({ alg: 'RS256', kid: 'rsa', crit: ['x-ext'], 'x-ext': 1 }).sign(rsa.privateKey, { crit: { 'x-ext': true } });
    expect(failure(await run(auth, crit))).toEqual({ code: 'ERR_JWT_CRIT', status: 401 });
    expect(failure(await run(auth, `${'a'.repeat(61_441)}`))).toEqual({ code: 'ERR_JWT_TOO_LARGE', status: 401 });
  });
});
