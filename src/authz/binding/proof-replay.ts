/**
 * DPoP proof replay detection (RFC 9449 §11.1): the `jti` of every accepted proof is remembered for as
 * long as its `iat` could still be accepted, and a second use is refused. Per filter process, in
 * memory: asking shared storage on every request would put a database round trip on the hot path
 * (bench:filter-binding measures it). A proof replayed to another replica within its window is
 * therefore not caught; docs/sender-constrained.md says how wide that window is.
 *
 * Bounded: at most `maxEntries` ids. Entries are kept in insertion order, which (with one retention
 * for all) is expiry order, so expired entries leave from the front; when the cache is full of live
 * entries, the oldest is forgotten early and counted (`onEvict`), which is what an operator sizes by.
 */

export interface ProofReplayOptions {
  maxEntries: number;
  /** How long an id is remembered after it was first seen. */
  retainMs: number;
  /** Called when a live id had to be forgotten to make room. */
  onEvict?: () => void;
}

export class ProofReplayCache {
  /** id -> when it may be forgotten (epoch ms). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly options: ProofReplayOptions) {}

  /** True the first time `id` is seen within its retention, false on every later use. */
  firstUse(id: string, now: number): boolean {
    this.sweep(now);
    const until = this.seen.get(id);
    if (until !== undefined) return false;
    if (this.seen.size >= this.options.maxEntries) {
      this.seen.delete(this.seen.keys().next().value!);
      this.options.onEvict?.();
    }
    this.seen.set(id, now + this.options.retainMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [id, until] of this.seen) {
      if (until > now) return;
      this.seen.delete(id);
    }
  }
}
