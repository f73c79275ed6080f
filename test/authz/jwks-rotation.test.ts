/**
 * Keys from a real issuer over HTTP: a rotation (new kid) is picked up through the unknown-kid
 * refetch, at most once per cooldown; with the issuer down, cached keys keep working and the failure
 * is counted; OIDC discovery finds jwks_uri; idgate's own issuer in-process needs no HTTP at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PublicJwks, VerificationKeySet } from '../../src/keys/keyset.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, outcomeOf } from './helpers/grpc-client.js';
import { JwksServer } from './helpers/jwks-server.js';
import { jwksOf, mint, testKey } from './helpers/tokens.js';

const REQUIRE_JWT = {
  'require.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: istio-system }
spec: { rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] }
`,
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(config: Record<string, unknown>, extra: { keySet?: VerificationKeySet; issuer?: string } = {}) {
  const fixture: FilterFixture = await startFilterFixture(REQUIRE_JWT, config, extra);
  const client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
  cleanups.push(() => fixture.close(), () => client.close());
  const status = async (token: string) => outcomeOf(await client.check({ headers: { authorization: `Bearer ${token}` } })).status;
  return { fixture, status };
}

function fetchCount(fixture: FilterFixture, result: 'ok' | 'error'): Promise<number> {
  return fixture.registry.getSingleMetricAsString('idgate_filter_jwks_fetches_total').then((text) =>
    text.split('\n').filter((l) => l.includes(`result="${result}"`)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0));
}

describe('remote JWKS', () => {
  it('picks up a rotated key (new kid) by refetching on the unknown kid', async () => {
    const [k1, k2] = [await testKey('k1'), await testKey('k2')];
    const issuer = new JwksServer(jwksOf(k1));
    await issuer.start();
    cleanups.push(() => issuer.stop());
    const { status } = await setup({ jwtRules: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri }], jwks: { unknownKidCooldown: '0s' } });
    expect(await status(await mint(k1, { iss: issuer.issuer, sub: 'a' }))).toBe(200);
    issuer.jwks = jwksOf(k1, k2);
    expect(await status(await mint(k2, { iss: issuer.issuer, sub: 'a' }))).toBe(200);
    expect(issuer.fetches).toBe(2);
  });

  it('refetches at most once per cooldown however many unknown kids arrive', async () => {
    const k1 = await testKey('k1');
    const issuer = new JwksServer(jwksOf(k1));
    await issuer.start();
    cleanups.push(() => issuer.stop());
    const { status } = await setup({ jwtRules: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri }], jwks: { unknownKidCooldown: '1h' } });
    for (const kid of ['x1', 'x2', 'x3']) expect(await status(await mint(k1, { iss: issuer.issuer, sub: 'a' }, { kid }))).toBe(401);
    expect(issuer.fetches).toBe(1);
  });

  it('keeps serving cached keys while the issuer is down, and counts the failed fetch', async () => {
    const k1 = await testKey('k1');
    const issuer = new JwksServer(jwksOf(k1));
    await issuer.start();
    const { fixture, status } = await setup({ jwtRules: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri }], jwks: { unknownKidCooldown: '0s' } });
    await issuer.stop();
    // An unknown kid forces a refetch, which fails: the old key must survive it.
    expect(await status(await mint(k1, { iss: issuer.issuer, sub: 'a' }, { kid: 'new' }))).toBe(401);
    expect(await fetchCount(fixture, 'error')).toBe(1);
    expect(await status(await mint(k1, { iss: issuer.issuer, sub: 'fresh-token' }))).toBe(200);
  });

  it('finds jwks_uri through OIDC discovery when the rule has neither jwks nor jwksUri', async () => {
    const k1 = await testKey('k1');
    const issuer = new JwksServer(jwksOf(k1));
    await issuer.start();
    cleanups.push(() => issuer.stop());
    const { status } = await setup({ jwtRules: [{ issuer: issuer.issuer }] });
    expect(await status(await mint(k1, { iss: issuer.issuer, sub: 'a' }))).toBe(200);
  });

  it('denies with 401 (fail closed) when the keys were never fetched', async () => {
    const k1 = await testKey('k1');
    const { status } = await setup({ jwtRules: [{ issuer: 'http://127.0.0.1:1', jwksUri: 'http://127.0.0.1:1/keys' }], jwks: { fetchTimeout: '500ms' } });
    expect(await status(await mint(k1, { iss: 'http://127.0.0.1:1', sub: 'a' }))).toBe(401);
  });
});

describe('in-process issuer keys', () => {
  it('verifies through the key set and follows its rotation without HTTP', async () => {
    const [k1, k2] = [await testKey('k1', 'ES256'), await testKey('k2', 'ES256')];
    let current: PublicJwks = jwksOf(k1);
    const listeners: Array<() => void> = [];
    const keySet: VerificationKeySet = { jwks: async () => current, onChange: (l) => (listeners.push(l), () => undefined) };
    const issuer = 'http://idgate.local/dex';
    const { status } = await setup({ issuerAudiences: ['app'] }, { keySet, issuer });
    expect(await status(await mint(k1, { iss: issuer, sub: 'a', aud: 'app' }))).toBe(200);
    expect(await status(await mint(k1, { iss: issuer, sub: 'a', aud: 'other' }))).toBe(403);
    current = jwksOf(k1, k2);
    for (const l of listeners) l();
    expect(await status(await mint(k2, { iss: issuer, sub: 'a', aud: 'app' }))).toBe(200);
  });
});
