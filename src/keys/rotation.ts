/**
 * The signing-key timeline as pure functions over the stored `SigningKeys` record, so the rules can be
 * read (and tested) apart from storage and timers:
 *
 * - publish-before-sign: a key is generated as `nextKey` and published in /keys a full rotation period
 *   before it signs anything; at rotation it is promoted and a new `nextKey` is generated.
 * - retention: a retired signing key stays published until every token it signed has expired
 *   (`tokenLifetime` after retirement, plus the replicas' state refresh interval as a margin).
 * - an algorithm change replaces the unsigned `nextKey` and, if needed, postpones the rotation so the
 *   new key is still published at least one /keys max-age before it signs.
 */
import type { EpochMs, JsonWebKey, SigningKeys } from '../storage/storage.js';
import type { GeneratedKey } from './generate.js';

export interface RotationPolicy {
  /** Milliseconds between rotations. */
  rotationPeriod: number;
  /** The longest lifetime of a token we sign (ms): how long a retired key must still verify. */
  tokenLifetime: number;
}

/** How long a replica may serve its in-memory copy of the key record before re-reading it. */
export const STATE_REFRESH_MS = 30_000;

/** Dex serves /keys with max-age=600; we never go above it. */
const MAX_AGE_CAP_MS = 600_000;

/**
 * The /keys `Cache-Control: max-age`, in ms. Why this is safe: a client that fetched /keys at time t
 * holds the current key and `nextKey` (which signs from `nextRotation`). The first key it can miss is
 * the one generated at the next rotation R, which signs from R + rotationPeriod >= t + rotationPeriod.
 * So any max-age up to rotationPeriod never lets a cache miss a key that signs; we take half of it
 * (margin for late rotations and clock skew between replicas), capped at Dex's 600 s. An algorithm
 * change that replaces `nextKey` postpones the rotation to keep the same guarantee (`replaceNextKey`).
 */
export function jwksMaxAgeMs(rotationPeriod: number): number {
  return Math.max(0, Math.min(MAX_AGE_CAP_MS, Math.floor(rotationPeriod / 2)));
}

export function isRotationDue(keys: SigningKeys, now: EpochMs): boolean {
  return now >= keys.nextRotation;
}

/** Until when a published-but-unused next key must stay verifiable at the latest. */
function nextKeyEntry(next: JsonWebKey, nextRotation: EpochMs, policy: RotationPolicy) {
  return { publicKey: next, expiresAt: nextRotation + policy.rotationPeriod + policy.tokenLifetime + STATE_REFRESH_MS };
}

/** The first record: a key that signs now (nothing can have been published before) and its successor. */
export function initialKeys(now: EpochMs, current: GeneratedKey, next: GeneratedKey, policy: RotationPolicy): SigningKeys {
  const nextRotation = now + policy.rotationPeriod;
  return {
    id: 'signing',
    signingKey: current.privateJwk,
    signingKeyPub: current.publicJwk,
    nextKey: next.privateJwk,
    verificationKeys: [nextKeyEntry(next.publicJwk, nextRotation, policy)],
    nextRotation,
  };
}

/** Promotes `nextKey`, retires the current key for `tokenLifetime`, publishes `generated` as the new next key. */
export function rotateKeys(keys: SigningKeys, now: EpochMs, generated: GeneratedKey, policy: RotationPolicy): SigningKeys {
  if (!keys.nextKey) {
    // Nothing was published ahead of time (a record written by something else): publish now, sign later.
    return replaceNextKey(keys, now, generated, policy);
  }
  const promoted = keys.nextKey;
  const promotedPub = keys.verificationKeys.find((entry) => entry.publicKey.kid === promoted.kid)?.publicKey;
  if (!promotedPub) throw new Error(`signing keys: next key ${promoted.kid} is not published`);
  const retained = keys.verificationKeys.filter((entry) => entry.expiresAt > now && entry.publicKey.kid !== promoted.kid);
  if (keys.signingKeyPub) {
    retained.push({ publicKey: keys.signingKeyPub, expiresAt: now + policy.tokenLifetime + STATE_REFRESH_MS });
  }
  const nextRotation = now + policy.rotationPeriod;
  return {
    id: 'signing',
    signingKey: promoted,
    signingKeyPub: promotedPub,
    nextKey: generated.privateJwk,
    verificationKeys: [...retained, nextKeyEntry(generated.publicJwk, nextRotation, policy)],
    nextRotation,
  };
}

/**
 * Swaps the unsigned `nextKey` for `generated` (an algorithm change). The old next key never signed, so
 * it is dropped; the rotation is postponed if the new key would otherwise sign before every /keys cache
 * (and every replica's copy of this record) has seen it.
 */
export function replaceNextKey(keys: SigningKeys, now: EpochMs, generated: GeneratedKey, policy: RotationPolicy): SigningKeys {
  const earliest = now + jwksMaxAgeMs(policy.rotationPeriod) + STATE_REFRESH_MS;
  const nextRotation = Math.max(keys.nextRotation, earliest);
  const oldNextKid = keys.nextKey?.kid;
  const retained = keys.verificationKeys.filter((entry) => entry.expiresAt > now && entry.publicKey.kid !== oldNextKid);
  return {
    ...keys,
    nextKey: generated.privateJwk,
    verificationKeys: [...retained, nextKeyEntry(generated.publicJwk, nextRotation, policy)],
    nextRotation,
  };
}

/** Every public key /keys must serve now: the signing key, the next key, retired keys not yet expired. */
export function publishedKeys(keys: SigningKeys, now: EpochMs): JsonWebKey[] {
  const published = keys.signingKeyPub ? [keys.signingKeyPub] : [];
  for (const entry of keys.verificationKeys) {
    if (entry.expiresAt > now && !published.some((key) => key.kid === entry.publicKey.kid)) published.push(entry.publicKey);
  }
  return published;
}
