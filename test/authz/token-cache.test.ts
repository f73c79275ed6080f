/**
 * The verified-token cache's bounds: entries never outlive exp, the oldest goes first when either the
 * entry count or the byte estimate (estimateEntryBytes) would be exceeded, and an entry larger than the
 * whole byte budget is not cached at all. The accounting is the cache's own, never a heap measurement.
 * Admission (offer): a token is cached on its second verification, not its first.
 */
import { describe, expect, it } from 'vitest';
import { TokenCache, estimateEntryBytes, tokenFingerprint, type VerifiedToken } from '../../src/authz/jwt/token-cache.js';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT-shaped token (the cache never verifies anything) with a claim of `claimBytes` characters; each `n` its own signature. */
function token(n: number, claimBytes = 10): string {
  return `${encode({ alg: 'RS256', kid: 'k' })}.${encode({ iss: 'https://iss', sub: `user-${String(n).padStart(4, '0')}`, blob: 'x'.repeat(claimBytes) })}.${'s'.repeat(326)}${String(n).padStart(16, '0')}`;
}

const entry = (sub: string, expiresAt = Number.MAX_SAFE_INTEGER): VerifiedToken => ({ payload: { sub }, keySource: 'inline:test', expiresAt });

describe('estimateEntryBytes', () => {
  it('counts the token, its payload segment again (the decoded payload) and a fixed overhead', () => {
    const t = token(1, 1000);
    const payloadSegment = t.split('.')[1]!;
    const overhead = estimateEntryBytes(t) - t.length - payloadSegment.length;
    expect(overhead).toBeGreaterThan(0);
    expect(estimateEntryBytes(token(2, 5000))).toBe(token(2, 5000).length + token(2, 5000).split('.')[1]!.length + overhead);
  });
});

describe('TokenCache', () => {
  it('stays within maxBytes with 1,000 tokens carrying a 100 KB claim, oldest out first', () => {
    const maxBytes = 2 * 1024 * 1024;
    const cache = new TokenCache({ maxEntries: 10_000, maxBytes });
    const tokens: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = token(i, 100_000);
      tokens.push(t);
      cache.set(t, entry(`user-${i}`));
      expect(cache.bytes).toBeLessThanOrEqual(maxBytes);
    }
    const perEntry = estimateEntryBytes(tokens[999]!);
    expect(perEntry).toBeGreaterThan(100_000 * 2); // the claim counted twice: in the token and in the payload
    expect(cache.size).toBe(Math.floor(maxBytes / perEntry));
    expect(cache.bytes).toBe(cache.size * perEntry);
    // The newest are kept, the oldest went.
    for (const t of tokens.slice(-cache.size)) expect(cache.get(t, 0)?.payload.sub).toBeDefined();
    expect(cache.get(tokens[0]!, 0)).toBeUndefined();
    expect(cache.get(tokens[999 - cache.size]!, 0)).toBeUndefined();
  });

  it('does not cache an entry larger than the whole budget, and keeps what it had', () => {
    const small = token(1);
    const cache = new TokenCache({ maxEntries: 10, maxBytes: estimateEntryBytes(small) + 100 });
    cache.set(small, entry('small'));
    cache.set(token(2, 10_000), entry('big'));
    expect(cache.get(token(2, 10_000), 0)).toBeUndefined();
    expect(cache.get(small, 0)?.payload.sub).toBe('small');
    expect(cache.bytes).toBe(estimateEntryBytes(small));
  });

  it('caches nothing with maxBytes 0 or maxEntries 0', () => {
    for (const limits of [{ maxEntries: 10, maxBytes: 0 }, { maxEntries: 0, maxBytes: 1e9 }]) {
      const cache = new TokenCache(limits);
      cache.set(token(1), entry('a'));
      expect([cache.size, cache.bytes]).toEqual([0, 0]);
    }
  });

  it('is bounded by count too: the oldest entry goes first', () => {
    const cache = new TokenCache({ maxEntries: 2, maxBytes: 1e9 });
    for (const n of [1, 2, 3]) cache.set(token(n), entry(`user-${n}`));
    expect(cache.size).toBe(2);
    expect(cache.get(token(1), 0)).toBeUndefined();
    expect(cache.bytes).toBe(estimateEntryBytes(token(2)) + estimateEntryBytes(token(3)));
  });

  it('releases the bytes of an expired entry when it is looked up, and of a replaced entry', () => {
    const cache = new TokenCache({ maxEntries: 10, maxBytes: 1e9 });
    cache.set(token(1), entry('a', 1000));
    cache.set(token(2), entry('b'));
    cache.set(token(2), entry('b again'));
    expect(cache.bytes).toBe(estimateEntryBytes(token(1)) + estimateEntryBytes(token(2)));
    expect(cache.get(token(1), 1000)).toBeUndefined();
    expect([cache.size, cache.bytes]).toEqual([1, estimateEntryBytes(token(2))]);
    expect(cache.get(token(2), 1000)?.payload.sub).toBe('b again');
    cache.clear();
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });
});

describe('admission on the second verification (offer)', () => {
  const signed = (n: number) => token(n);

  it('notes a token the first time, caches it the second, and serves it after', () => {
    const cache = new TokenCache({ maxEntries: 100, maxBytes: 1e9 });
    expect(cache.offer(signed(1), entry('a'))).toBe(false);
    expect([cache.size, cache.get(signed(1), 0)]).toEqual([0, undefined]);
    expect(cache.offer(signed(2), entry('b'))).toBe(false);
    expect(cache.offer(signed(1), entry('a'))).toBe(true);
    expect(cache.get(signed(1), 0)?.payload.sub).toBe('a');
    expect(cache.size).toBe(1);
  });

  it('never takes a flood of tokens seen once, so the tokens in use stay', () => {
    const cache = new TokenCache({ maxEntries: 10, maxBytes: 1e9 });
    for (let use = 0; use < 2; use++) cache.offer(signed(0), entry('in use'));
    for (let n = 1; n <= 1000; n++) cache.offer(signed(n), entry(`once-${n}`));
    expect(cache.size).toBe(1);
    expect(cache.get(signed(0), 0)?.payload.sub).toBe('in use');
  });

  it('caches nothing with maxEntries 0, and forgets what it noted on clear', () => {
    const off = new TokenCache({ maxEntries: 0, maxBytes: 1e9 });
    for (let use = 0; use < 3; use++) expect(off.offer(signed(1), entry('a'))).toBe(false);
    const cache = new TokenCache({ maxEntries: 10, maxBytes: 1e9 });
    cache.offer(signed(1), entry('a'));
    cache.clear();
    expect(cache.offer(signed(1), entry('a'))).toBe(false);
  });

  it('serves only the very token kept: another token with the same signature tail is a miss, and takes the place when set', () => {
    const cache = new TokenCache({ maxEntries: 10, maxBytes: 1e9 });
    const kept = token(1);
    const sameTail = `${encode({ alg: 'RS256' })}.${encode({ sub: 'mallory' })}.${kept.slice(-16)}`;
    cache.set(kept, entry('a'));
    expect(cache.get(sameTail, 0)).toBeUndefined();
    expect(cache.get(kept, 0)?.payload.sub).toBe('a');
    cache.set(sameTail, entry('m'));
    expect([cache.size, cache.bytes]).toEqual([1, estimateEntryBytes(sameTail)]);
    expect(cache.get(kept, 0)).toBeUndefined();
  });

  it('fingerprints the signature tail, never 0 (an empty slot)', () => {
    expect(tokenFingerprint(signed(1))).not.toBe(tokenFingerprint(signed(2)));
    expect(tokenFingerprint(signed(1))).toBe(tokenFingerprint(`other-head.${signed(1).slice(-12)}`));
    expect(tokenFingerprint('')).not.toBe(0);
  });
});
