/**
 * The login throttle over storage: every concurrent failure is counted (compare-and-swap), two
 * throttles on one store (two replicas) share the counts, and what people typed is stored only hashed.
 */
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { createLoginThrottle } from '../../src/login/throttle.js';
import { openStorage } from '../../src/storage/open.js';

const CONFIG = { maxFailures: 5, window: 600_000, lockout: 300_000 };

describe('login throttle on storage', () => {
  it('counts every one of many concurrent failures on one key', async () => {
    const storage = await openStorage({ type: 'memory' });
    const clock = manualClock(Date.now());
    const throttle = createLoginThrottle(storage, { ...CONFIG, maxFailures: 100 }, clock);
    await Promise.all(Array.from({ length: 20 }, () => throttle.fail(['user:local:alice'])));
    const [record] = await storage.loginFailures.list();
    expect(record!.failures).toHaveLength(20);
    await storage.close();
  });

  it('shares counts between two throttles on one store, and locks both at maxFailures', async () => {
    const storage = await openStorage({ type: 'memory' });
    const clock = manualClock(Date.now());
    const [a, b] = [createLoginThrottle(storage, CONFIG, clock), createLoginThrottle(storage, CONFIG, clock)];
    for (let i = 0; i < 4; i++) expect(await (i % 2 ? b : a).fail(['user:local:bob'])).toBe(0);
    expect(await b.fail(['user:local:bob'])).toBe(CONFIG.lockout);
    expect(await a.lockedFor(['ip:192.0.2.1', 'user:local:bob'])).toBe(CONFIG.lockout);
    clock.advance(CONFIG.lockout);
    expect(await a.lockedFor(['user:local:bob'])).toBe(0);
    await storage.close();
  });

  it('forgets a user after reset, and stores keys only as hashes', async () => {
    const storage = await openStorage({ type: 'memory' });
    const throttle = createLoginThrottle(storage, CONFIG, manualClock(Date.now()));
    await throttle.fail(['user:local:carol@example.com', 'ip:192.0.2.7']);
    const stored = JSON.stringify(await storage.loginFailures.list());
    expect(stored).not.toContain('carol');
    expect(stored).not.toContain('192.0.2.7');
    await throttle.reset(['user:local:carol@example.com']);
    expect(await storage.loginFailures.list()).toHaveLength(1); // the IP's count stays
    await storage.close();
  });
});
