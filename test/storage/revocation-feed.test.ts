// The polling revocation feed (SQLite and memory storage): existing revocations first, then each new one.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import {
  createPollingRevocationFeed, openRevocationFeed, type RevocationFeed, type RevocationSource,
} from '../../src/storage/revocation-feed.js';
import { StorageUnavailableError, type Revocation } from '../../src/storage/storage.js';
import { expectStorageError } from './conformance.js';
import { HOUR, revocation } from './fixtures.js';

const INTERVAL_MS = 20;
let feed: RevocationFeed | undefined;

afterEach(async () => {
  await feed?.close();
  feed = undefined;
});

function setup() {
  const clock = manualClock();
  const storage = createStorage(createMemoryBackend(), { now: clock });
  const delivered: Revocation[] = [];
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
  return { clock, storage, delivered, warnings, logger };
}

async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

const ticks = (n: number) => new Promise((resolve) => setTimeout(resolve, n * INTERVAL_MS));

describe('polling revocation feed', () => {
  it('delivers the revocations that exist at start before start() resolves', async () => {
    const { clock, storage, delivered } = setup();
    await storage.revocations.create(revocation('s1', clock()));
    feed = createPollingRevocationFeed(storage.revocations, { intervalMs: INTERVAL_MS });
    await feed.start((r) => delivered.push(r));
    expect(delivered).toEqual([revocation('s1', clock())]);
  });

  it('delivers each new revocation once, within an interval or two', async () => {
    const { clock, storage, delivered } = setup();
    feed = createPollingRevocationFeed(storage.revocations, { intervalMs: INTERVAL_MS });
    await feed.start((r) => delivered.push(r));
    await storage.revocations.create(revocation('s1', clock()));
    await eventually(() => expect(delivered.map((r) => r.id)).toEqual(['sid:s1']));
    await storage.revocations.create(revocation('s2', clock()));
    await eventually(() => expect(delivered.map((r) => r.id)).toEqual(['sid:s1', 'sid:s2']));
    await ticks(3);
    expect(delivered).toHaveLength(2);
  });

  it('delivers an ID again when it is revoked anew after the first revocation expired', async () => {
    const { clock, storage, delivered } = setup();
    feed = createPollingRevocationFeed(storage.revocations, { intervalMs: INTERVAL_MS });
    await storage.revocations.create(revocation('s1', clock()));
    await feed.start((r) => delivered.push(r));
    clock.advance(HOUR);
    await storage.revocations.create(revocation('s1', clock()));
    await eventually(() => expect(delivered.map((r) => r.createdAt)).toEqual([clock() - HOUR, clock()]));
  });

  it('fails start() when the storage is unreachable (unavailable)', async () => {
    const failing: RevocationSource = {
      list: async () => { throw new StorageUnavailableError('down'); },
      get: async () => undefined,
    };
    feed = createPollingRevocationFeed(failing, { intervalMs: INTERVAL_MS });
    await expectStorageError(feed.start(() => undefined), 'unavailable');
  });

  it('keeps polling after a failed read, and logs it', async () => {
    const { clock, storage, delivered, warnings, logger } = setup();
    let failNext = false;
    const flaky: RevocationSource = {
      list: async () => {
        if (failNext) { failNext = false; throw new StorageUnavailableError('down'); }
        return storage.revocations.list();
      },
      get: (id) => storage.revocations.get(id),
    };
    feed = createPollingRevocationFeed(flaky, { intervalMs: INTERVAL_MS, logger });
    await feed.start((r) => delivered.push(r));
    failNext = true;
    await storage.revocations.create(revocation('s1', clock()));
    await eventually(() => expect(delivered.map((r) => r.id)).toEqual(['sid:s1']));
    expect(warnings).toEqual(['revocation feed: polling failed; retrying']);
  });

  it('keeps delivering when the consumer throws on one revocation', async () => {
    const { clock, storage, delivered, warnings, logger } = setup();
    feed = createPollingRevocationFeed(storage.revocations, { intervalMs: INTERVAL_MS, logger });
    await feed.start((r) => {
      if (r.value === 'bad') throw new Error('consumer bug');
      delivered.push(r);
    });
    await storage.revocations.create(revocation('bad', clock()));
    await storage.revocations.create(revocation('good', clock()));
    await eventually(() => expect(delivered.map((r) => r.id)).toEqual(['sid:good']));
    expect(warnings).toEqual(['revocation feed: the consumer failed on a revocation']);
  });

  it('is what openRevocationFeed picks for memory and sqlite3 storage', async () => {
    const { clock, storage, delivered } = setup();
    feed = await openRevocationFeed({ type: 'memory' }, storage.revocations, { pollIntervalMs: INTERVAL_MS });
    await feed.start((r) => delivered.push(r));
    await storage.revocations.create(revocation('s1', clock()));
    await eventually(() => expect(delivered.map((r) => r.id)).toEqual(['sid:s1']));
  });

  it('delivers nothing after close()', async () => {
    const { clock, storage, delivered } = setup();
    feed = createPollingRevocationFeed(storage.revocations, { intervalMs: INTERVAL_MS });
    await feed.start((r) => delivered.push(r));
    await feed.close();
    await storage.revocations.create(revocation('s1', clock()));
    await ticks(4);
    expect(delivered).toEqual([]);
  });
});
