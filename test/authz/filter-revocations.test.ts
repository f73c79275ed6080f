/**
 * The filter honours its revocation deny-list: a verified token whose sid or jti is revoked is denied
 * with 401 token_revoked, even when the token is already in the verified-token cache; other tokens of
 * the same issuer, and a forged token naming a revoked sid, are decided as before; over gRPC too,
 * where allow responses of cached tokens are encoded once.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterConfig } from '../../src/authz/config.js';
import { startFilter, type CheckInput, type RunningFilter } from '../../src/authz/index.js';
import { RevocationList } from '../../src/authz/revocations.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { grantKey } from '../../src/storage/storage.js';
import { ExtAuthzClient, outcomeOf } from './helpers/grpc-client.js';
import { jwksOf, mint, tamper, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
let key: TestKey;
let filter: RunningFilter;
let grpc: ExtAuthzClient;
const revoked = new RevocationList();

beforeAll(async () => {
  key = await testKey('k1');
  filter = await startFilter({
    config: parseFilterConfig({ grpc: '127.0.0.1:0', jwtRules: [{ issuer: ISS, jwks: JSON.stringify(jwksOf(key)) }], audit: { enabled: false }, watch: false }),
    logger: silentLogger(),
    registry: new Registry(),
    revocations: revoked,
  });
  grpc = new ExtAuthzClient(`127.0.0.1:${filter.grpcPort}`);
});
afterAll(async () => {
  grpc?.close();
  await filter?.close();
});

function request(token: string): CheckInput {
  return { transport: 'explain', requestId: 'r1', method: 'GET', host: 'api.example', path: '/orders?x=1', scheme: 'https', headers: { authorization: `Bearer ${token}` } };
}

const later = () => Date.now() + 60_000;

describe('filter with a revocation deny-list', () => {
  it('denies a cached token once its session is revoked, with a Bearer challenge', async () => {
    const token = await mint(key, { iss: ISS, sub: 'u1', sid: 'session-1', jti: 'token-1' });
    for (let use = 0; use < 3; use++) expect((await filter.check(request(token))).decision).toBe('allow'); // cached from the second
    revoked.add({ kind: 'sid', value: 'session-1', expiresAt: later() });
    const result = await filter.check(request(token));
    expect(result).toMatchObject({ decision: 'deny', status: 401, reason: 'token_revoked' });
    expect(result.headers).toContainEqual({ name: 'www-authenticate', value: expect.stringMatching(/^Bearer realm="https:\/\/api\.example\/orders", error="invalid_token"/) as unknown });
  });

  it('denies a token revoked by its jti, and allows another token of the same session', async () => {
    const first = await mint(key, { iss: ISS, sub: 'u2', sid: 'session-2', jti: 'token-2a' });
    const second = await mint(key, { iss: ISS, sub: 'u2', sid: 'session-2', jti: 'token-2b' });
    revoked.add({ kind: 'jti', value: 'token-2a', expiresAt: later() });
    expect(await filter.check(request(first))).toMatchObject({ decision: 'deny', reason: 'token_revoked' });
    expect((await filter.check(request(second))).decision).toBe('allow');
  });

  it("denies every cached token of a revoked refresh-token family (its grant tag at its issuer), and no other family's", async () => {
    const tag = 'Zm9yLXRoZS1ncmFudC10YWc';
    const tokens = await Promise.all(['a', 'b'].map((n) => mint(key, { iss: ISS, sub: 'u6', sid: 'session-6', jti: `${tag}.${n}` })));
    const otherFamily = await mint(key, { iss: ISS, sub: 'u6', sid: 'session-6', jti: 'T3RoZXItZmFtaWx5LXRhZ3M.a' });
    for (const token of [...tokens, otherFamily]) for (let use = 0; use < 2; use++) expect((await filter.check(request(token))).decision).toBe('allow');
    revoked.add({ kind: 'grant', value: grantKey(ISS, tag), expiresAt: later() });
    for (const token of tokens) expect(await filter.check(request(token))).toMatchObject({ decision: 'deny', status: 401, reason: 'token_revoked' });
    expect((await filter.check(request(otherFamily))).decision).toBe('allow');
  });

  it('decides a forged token naming a revoked sid as invalid, not as revoked (the signature comes first)', async () => {
    const token = await mint(key, { iss: ISS, sub: 'u3', sid: 'session-3' });
    const forged = tamper(token, { iss: ISS, sub: 'u3', sid: 'session-1' });
    expect(await filter.check(request(forged))).toMatchObject({ decision: 'deny', status: 401, reason: 'jwt_invalid' });
  });

  it('ignores sid and jti claims that are not strings', async () => {
    revoked.add({ kind: 'sid', value: '42', expiresAt: later() });
    const token = await mint(key, { iss: ISS, sub: 'u4', sid: 42 });
    expect((await filter.check(request(token))).decision).toBe('allow');
  });

  it('denies over gRPC a token whose allow response was already encoded and cached', async () => {
    const token = await mint(key, { iss: ISS, sub: 'u5', sid: 'session-5' });
    const ask = async () => outcomeOf(await grpc.check({ path: '/orders', headers: { authorization: `Bearer ${token}` } }));
    for (let use = 0; use < 3; use++) expect((await ask()).status).toBe(200); // cached, and its answer encoded, from the second
    revoked.add({ kind: 'sid', value: 'session-5', expiresAt: later() });
    expect(await ask()).toMatchObject({ status: 401, body: 'the token was revoked' });
  });
});
