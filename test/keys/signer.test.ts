// Specification of the storage-backed signer: rotation timeline, publish-before-sign, retention,
// replicas racing on one store, algorithm selection. A manual clock; nothing sleeps.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { createSigner } from '../../src/keys/signer.js';
import type { SigningAlgorithm } from '../../src/keys/generate.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const HOUR = 3_600_000;
const PERIOD = 6 * HOUR;
const LIFETIME = 24 * HOUR;

function setup(algorithm: SigningAlgorithm = 'ES256') {
  const clock = manualClock();
  const storage = createStorage(createMemoryBackend(), { now: clock });
  const make = (alg: SigningAlgorithm = algorithm) =>
    createSigner(storage, { algorithm: alg, rotationPeriod: PERIOD, tokenLifetime: LIFETIME, now: clock, logger: silentLogger() });
  return { clock, storage, make };
}

async function kidOf(token: string): Promise<string> {
  return decodeProtectedHeader(token).kid!;
}

async function publishedKids(signer: { jwks(): Promise<{ keys: JWK[] }> }): Promise<string[]> {
  return (await signer.jwks()).keys.map((key) => key.kid!);
}

describe('signer', () => {
  it('creates a signing key and a published next key on first use', async () => {
    const { make, storage } = setup();
    const signer = await make();
    const token = await signer.sign({ sub: 'alice' }, { typ: 'at+jwt' });
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const stored = await storage.keys.get('signing');
    expect(await publishedKids(signer)).toEqual([stored!.signingKeyPub!.kid, stored!.nextKey!.kid]);
    const { payload } = await jwtVerify(token, createLocalJWKSet(await signer.jwks()));
    expect(payload.sub).toBe('alice');
  });

  it('publishes only public key members', async () => {
    const { make } = setup('RS256');
    const signer = await make();
    for (const key of (await signer.jwks()).keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(member);
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    }
  });

  it('rotates every rotation period, promoting the key it published before', async () => {
    const { make, clock } = setup();
    const signer = await make();
    const [first, next] = await publishedKids(signer);
    clock.advance(PERIOD - 1);
    expect(await signer.rotateIfDue()).toBe(false);
    expect(await kidOf(await signer.sign({}))).toBe(first);
    clock.advance(1);
    expect(await signer.rotateIfDue()).toBe(true);
    expect(await kidOf(await signer.sign({}))).toBe(next);
    const kids = await publishedKids(signer);
    expect(kids).toHaveLength(3);
    expect(kids).toContain(first);
  });

  it('rotates lazily when signing after the rotation time, without a timer', async () => {
    const { make, clock } = setup();
    const signer = await make();
    const [, next] = await publishedKids(signer);
    clock.advance(PERIOD + 1);
    expect(await kidOf(await signer.sign({}))).toBe(next);
  });

  it('never signs with a key a /keys cache honouring max-age could have missed', async () => {
    const { make, clock } = setup();
    const signer = await make();
    const maxAgeMs = (await signer.jwksMaxAgeSeconds()) * 1000;
    expect(maxAgeMs).toBeGreaterThan(0);
    expect(maxAgeMs).toBeLessThanOrEqual(PERIOD / 2);
    // Clients fetch /keys at every step and keep the copy for max-age; every token signed later in that
    // window must carry a kid of the copy they hold.
    const caches: Array<{ until: number; kids: string[] }> = [];
    const step = 7 * 60_000;
    for (let t = 0; t < 4 * PERIOD; t += step) {
      await signer.rotateIfDue();
      caches.push({ until: clock() + maxAgeMs, kids: await publishedKids(signer) });
      const kid = await kidOf(await signer.sign({}));
      for (const cache of caches.filter((c) => c.until > clock())) expect(cache.kids).toContain(kid);
      clock.advance(step);
    }
  });

  it('keeps a retired key published until every token it signed has expired', async () => {
    const { make, clock } = setup();
    const signer = await make();
    const [first] = await publishedKids(signer);
    clock.advance(PERIOD - 1000);
    const oldToken = await signer.sign({ exp: Math.floor((clock() + LIFETIME) / 1000) });
    clock.advance(1000);
    expect(await signer.rotateIfDue()).toBe(true);
    clock.advance(LIFETIME - 2000);
    await signer.rotateIfDue();
    expect(await publishedKids(signer)).toContain(first);
    const verified = jwtVerify(oldToken, createLocalJWKSet(await signer.jwks()), { currentDate: new Date(clock()) });
    await expect(verified).resolves.toBeDefined();
    clock.advance(2000 + 30_000 + 1);
    expect(await publishedKids(signer)).not.toContain(first);
  });

  it('lets exactly one of two replicas on one store rotate; the other adopts its keys', async () => {
    const { make, clock } = setup();
    const [a, b] = [await make(), await make()];
    expect(await publishedKids(a)).toEqual(await publishedKids(b));
    clock.advance(PERIOD);
    const results = await Promise.all([a.rotateIfDue(), b.rotateIfDue(), a.rotateIfDue(), b.rotateIfDue()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await kidOf(await a.sign({}))).toBe(await kidOf(await b.sign({})));
    expect(await publishedKids(a)).toEqual(await publishedKids(b));
  });

  it('creates one key record when two replicas start on an empty store at once', async () => {
    const { make } = setup();
    const [a, b] = await Promise.all([make(), make()]);
    expect(await publishedKids(a)).toEqual(await publishedKids(b));
    expect(await kidOf(await a.sign({}))).toBe(await kidOf(await b.sign({})));
  });

  it.each(['RS256', 'ES256', 'EdDSA'] as const)('signs with %s when configured', async (algorithm) => {
    const { make } = setup(algorithm);
    const signer = await make();
    expect(await signer.algorithm()).toBe(algorithm);
    const token = await signer.sign({ sub: 'x' });
    expect(decodeProtectedHeader(token).alg).toBe(algorithm);
    await expect(jwtVerify(token, createLocalJWKSet(await signer.jwks()), { algorithms: [algorithm] })).resolves.toBeDefined();
  });

  it('applies an algorithm change at the next rotation, after publishing the new key', async () => {
    const { make, clock } = setup('RS256');
    await make();
    const restarted = await make('ES256');
    // The current RS256 key keeps signing until the rotation; the ES256 key is already published.
    expect(decodeProtectedHeader(await restarted.sign({})).alg).toBe('RS256');
    const published = (await restarted.jwks()).keys;
    expect(published.map((key) => key.alg)).toEqual(['RS256', 'ES256']);
    clock.advance(PERIOD);
    expect(await restarted.rotateIfDue()).toBe(true);
    const token = await restarted.sign({});
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: published[1]!.kid });
  });

  it('postpones the rotation when an algorithm change comes too close to it', async () => {
    const { make, clock } = setup('RS256');
    await make();
    clock.advance(PERIOD - 1000);
    const restarted = await make('EdDSA');
    const maxAgeMs = (await restarted.jwksMaxAgeSeconds()) * 1000;
    const [, newKey] = (await restarted.jwks()).keys;
    clock.advance(maxAgeMs - 1);
    expect(await restarted.rotateIfDue()).toBe(false);
    clock.advance(31_000);
    expect(await restarted.rotateIfDue()).toBe(true);
    expect(await kidOf(await restarted.sign({}))).toBe(newKey!.kid);
  });

  it('notifies listeners when the published key set changes', async () => {
    const { make, clock } = setup();
    const signer = await make();
    let calls = 0;
    signer.onChange!(() => calls++);
    clock.advance(PERIOD);
    await signer.rotateIfDue();
    expect(calls).toBe(1);
  });
});
