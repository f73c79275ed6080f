/**
 * The verified-token cache: a token verified once is not verified again until it expires. Bounded
 * (the oldest entry goes first), and an entry never outlives the token's own exp.
 */
import type { JWTPayload } from 'jose';

export interface VerifiedToken {
  payload: JWTPayload;
  /** The key source that verified it: a cached token only counts for the same issuer's keys. */
  keySource: string;
  /** Epoch ms after which the entry is dropped (the token's exp; never later). */
  expiresAt: number;
}

export class TokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries: number) {}

  get(token: string, now: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, entry: VerifiedToken): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(token, entry);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
