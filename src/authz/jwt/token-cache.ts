/**
 * The verified-token cache: a token verified once is not verified again until it expires. Bounded by
 * entry count and by an estimate of the memory its entries hold (oldest out first), and an entry
 * never outlives the token's own exp.
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

export class TokenCache {
  /** Insertion order is age order: the first key is the oldest entry. */
  private readonly entries = new Map<string, VerifiedToken>();
  private totalBytes = 0;

  constructor(private readonly limits: TokenCacheLimits) {}

  get(token: string, now: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.delete(token);
      return undefined;
    }
    return entry;
  }

  /** Caches an entry, evicting the oldest until it fits; an entry larger than the whole budget is not cached. */
  set(token: string, entry: VerifiedToken): void {
    const { maxEntries, maxBytes } = this.limits;
    const bytes = estimateEntryBytes(token);
    this.delete(token);
    if (maxEntries === 0 || bytes > maxBytes) return;
    while (this.entries.size >= maxEntries || this.totalBytes + bytes > maxBytes) this.delete(this.entries.keys().next().value!);
    this.entries.set(token, entry);
    this.totalBytes += bytes;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The estimated bytes held (the sum of estimateEntryBytes over the entries). */
  get bytes(): number {
    return this.totalBytes;
  }

  private delete(token: string): void {
    if (this.entries.delete(token)) this.totalBytes -= estimateEntryBytes(token);
  }
}
