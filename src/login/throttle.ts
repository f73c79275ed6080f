/**
 * Slows password guessing (login.throttle): failures are counted per user (per connector) and per
 * client IP within `window`; at `maxFailures` that key is locked for `lockout`. A locked key is
 * refused before the connector is asked, so a lockout costs the attacker nothing to learn from.
 * Counts live in storage, so replicas on one database share them: spreading guesses over replicas
 * gains nothing. Records expire with their window or lockout and are garbage-collected.
 */
import { createHash } from 'node:crypto';
import { AlreadyExistsError, NotFoundError, type LoginFailures, type Storage } from '../storage/storage.js';

export interface ThrottleConfig {
  maxFailures: number;
  /** ms */
  window: number;
  /** ms */
  lockout: number;
}

export interface LoginThrottle {
  /** ms until the first of `keys` that is locked unlocks; 0 when none is. */
  lockedFor(keys: string[]): Promise<number>;
  /** Counts a failure against every key, locks those that reach maxFailures; returns `lockedFor(keys)`. */
  fail(keys: string[]): Promise<number>;
  /** Forgets the failures of `keys` (after a successful login). */
  reset(keys: string[]): Promise<void>;
}

/** Keys hold what people typed; the record ID is their hash, of fixed length. */
function recordId(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

export function createLoginThrottle(storage: Pick<Storage, 'loginFailures'>, config: ThrottleConfig, now: () => number): LoginThrottle {
  const failures = storage.loginFailures;

  function withFailure(current: LoginFailures | undefined, id: string, at: number): LoginFailures {
    const recent = [...(current?.failures ?? []).filter((t) => t > at - config.window), at];
    const lockedUntil = recent.length >= config.maxFailures ? at + config.lockout : current?.lockedUntil ?? 0;
    const counted = recent.length >= config.maxFailures ? [] : recent;
    return { id, failures: counted, lockedUntil, expiresAt: Math.max(lockedUntil, at + config.window) };
  }

  /** Adds a failure by compare-and-swap, creating the record the first time; returns the lock's end. */
  async function failOne(key: string, at: number): Promise<number> {
    const id = recordId(key);
    for (;;) {
      try {
        return (await failures.update(id, (current) => withFailure(current, id, at))).lockedUntil;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
      const record = withFailure(undefined, id, at);
      try {
        await failures.create(record);
        return record.lockedUntil;
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error; // created meanwhile elsewhere: update it
      }
    }
  }

  const remaining = (until: number[], at: number) => Math.max(0, ...until.map((t) => t - at));

  return {
    async lockedFor(keys) {
      const records = await Promise.all(keys.map((key) => failures.get(recordId(key))));
      return remaining(records.map((record) => record?.lockedUntil ?? 0), now());
    },
    async fail(keys) {
      const at = now();
      return remaining(await Promise.all(keys.map((key) => failOne(key, at))), at);
    },
    async reset(keys) {
      await Promise.all(keys.map((key) => failures.delete(recordId(key))));
    },
  };
}

/** "try again in 5 minutes" (rounded up; at least one). */
export function describeWait(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
