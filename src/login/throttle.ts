/**
 * Slows password guessing (login.throttle): failures are counted per user (per connector) and per
 * client IP within `window`; at `maxFailures` that key is locked for `lockout`. A locked key is
 * refused before the connector is asked, so a lockout costs the attacker nothing to learn from.
 * Counts live in this process (bounded); replicas each count on their own.
 */

export interface ThrottleConfig {
  maxFailures: number;
  /** ms */
  window: number;
  /** ms */
  lockout: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

const MAX_KEYS = 100_000;

export interface LoginThrottle {
  /** ms until the first of `keys` that is locked unlocks; 0 when none is. */
  lockedFor(keys: string[]): number;
  /** Counts a failure against every key; locks those that reach maxFailures. */
  fail(keys: string[]): void;
  /** Forgets the failures of `keys` (after a successful login). */
  reset(keys: string[]): void;
}

export function createLoginThrottle(config: ThrottleConfig, now: () => number): LoginThrottle {
  const entries = new Map<string, Entry>();

  /** Drops what no longer counts; if a flood of keys still overfills the map, the oldest go first. */
  function prune(at: number): void {
    for (const [key, entry] of entries) {
      if (entry.lockedUntil <= at && entry.failures.every((t) => t <= at - config.window)) entries.delete(key);
    }
    for (const key of entries.keys()) {
      if (entries.size <= MAX_KEYS) break;
      entries.delete(key);
    }
  }

  return {
    lockedFor(keys) {
      const at = now();
      return Math.max(0, ...keys.map((key) => (entries.get(key)?.lockedUntil ?? 0) - at));
    },
    fail(keys) {
      const at = now();
      if (entries.size > MAX_KEYS) prune(at);
      for (const key of keys) {
        const entry = entries.get(key) ?? { failures: [], lockedUntil: 0 };
        entry.failures = [...entry.failures.filter((t) => t > at - config.window), at];
        if (entry.failures.length >= config.maxFailures) {
          entry.lockedUntil = at + config.lockout;
          entry.failures = [];
        }
        entries.set(key, entry);
      }
    },
    reset(keys) {
      for (const key of keys) entries.delete(key);
    },
  };
}

/** "try again in 5 minutes" (rounded up; at least one). */
export function describeWait(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
