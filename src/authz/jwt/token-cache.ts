/**
 * The verified-token cache: a token verified once is not verified again until it expires. Bounded by
 * entry count and by an estimate of the memory its entries hold (oldest out first), and an entry
 * never outlives the token's own exp.
 *
 * A token is admitted on its second verification, not its first (a "doorkeeper", as in TinyLFU): a
 * table of fingerprints remembers the tokens seen once. A token presented once and never again (a
 * one-off client_credentials token, a batch job's, a flood of distinct tokens) then neither pushes
 * the tokens in use out nor leaves long-lived objects for the garbage collector, which with every
 * token new cost more than the cache saved; a token in use is verified twice instead of once.
 */
import type { JWTPayload } from 'jose';

export interface VerifiedToken {
  payload: JWTPayload;
  /** The key source that verified it: a cached token only counts for the same issuer's keys. */
  keySource: string;
  /** Epoch ms after which the entry is dropped (the token's exp; never later). */
  expiresAt: number;
}

export interface TokenCacheLimits {
  maxEntries: number;
  maxBytes: number;
}

/** The map entry, the VerifiedToken record and its fields, beside the strings and the payload. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * What one entry is taken to cost: the token string, one byte per character (V8 keeps an ASCII string
 * in one byte a character, and a cached token is base64url), plus the decoded payload, counted as the
 * length of its base64url segment: the JSON is 3/4 of that, the last quarter stands for the objects
 * and property slots the parsed JSON occupies beyond its text. Plus a fixed ENTRY_OVERHEAD_BYTES.
 * An estimate, not a measurement; it depends on the token string alone.
 */
export function estimateEntryBytes(token: string): number {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const payloadLength = first === -1 || second === -1 ? token.length : second - first - 1;
  return token.length + payloadLength + ENTRY_OVERHEAD_BYTES;
}

/** Fingerprint slots per cache entry (rounded up to a power of two), at most MAX_DOORKEEPER_SLOTS. */
const DOORKEEPER_SLOTS_PER_ENTRY = 2;
const MAX_DOORKEEPER_SLOTS = 1 << 20;

/**
 * A 32-bit fingerprint of a token from its last 12 characters: the tail of its signature, which differs
 * between any two signed tokens. Never 0 (an empty slot). A collision only admits a token early.
 */
export function tokenFingerprint(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - 12); i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  return (hash >>> 0) || 1;
}

/**
 * The map key of a token: its last 16 characters, the tail of its signature. A token string arrives
 * new with every request, and a Map hashes a string key in full on first use (a JWT's ~600 characters,
 * about 1 µs); the tail hashes in a fraction of that, and the whole token is then compared with the
 * one kept, so two tokens sharing a tail only take each other's place.
 */
function keyOf(token: string): string {
  return token.slice(-16);
}

interface Kept {
  token: string;
  entry: VerifiedToken;
}

export class TokenCache {
  /** By keyOf; insertion order is age order: the first key is the oldest entry. */
  private readonly entries = new Map<string, Kept>();
  private totalBytes = 0;
  /** Fingerprints of tokens verified once and not admitted yet, direct-mapped (a newer one overwrites). */
  private readonly seenOnce: Uint32Array;

  constructor(private readonly limits: TokenCacheLimits) {
    const wanted = Math.min(MAX_DOORKEEPER_SLOTS, Math.max(1, limits.maxEntries * DOORKEEPER_SLOTS_PER_ENTRY));
    this.seenOnce = new Uint32Array(limits.maxEntries === 0 ? 0 : 2 ** Math.ceil(Math.log2(wanted)));
  }

  /**
   * A token just verified: cached if this is its second verification since its fingerprint was noted
   * (see the top of this file), else noted. True if it is cached now.
   */
  offer(token: string, entry: VerifiedToken): boolean {
    if (this.seenOnce.length === 0) return false;
    const fingerprint = tokenFingerprint(token);
    const slot = fingerprint & (this.seenOnce.length - 1);
    if (this.seenOnce[slot] !== fingerprint) {
      this.seenOnce[slot] = fingerprint;
      return false;
    }
    this.seenOnce[slot] = 0;
    this.set(token, entry);
    return this.entries.get(keyOf(token))?.token === token;
  }

  get(token: string, now: number): VerifiedToken | undefined {
    const key = keyOf(token);
    const kept = this.entries.get(key);
    if (kept?.token !== token) return undefined;
    if (now >= kept.entry.expiresAt) {
      this.delete(key);
      return undefined;
    }
    return kept.entry;
  }

  /** Caches an entry, evicting the oldest until it fits; an entry larger than the whole budget is not cached. */
  set(token: string, entry: VerifiedToken): void {
    const { maxEntries, maxBytes } = this.limits;
    const bytes = estimateEntryBytes(token);
    const key = keyOf(token);
    this.delete(key);
    if (maxEntries === 0 || bytes > maxBytes) return;
    while (this.entries.size >= maxEntries || this.totalBytes + bytes > maxBytes) this.delete(this.entries.keys().next().value!);
    this.entries.set(key, { token, entry });
    this.totalBytes += bytes;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
    this.seenOnce.fill(0);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The estimated bytes held (the sum of estimateEntryBytes over the entries). */
  get bytes(): number {
    return this.totalBytes;
  }

  private delete(key: string): void {
    const kept = this.entries.get(key);
    if (kept && this.entries.delete(key)) this.totalBytes -= estimateEntryBytes(kept.token);
  }
}
