// Opening storage from the config section, and the periodic garbage collection that keeps it small.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { DEFAULT_GC_FIRST_RUN_MS, DEFAULT_GC_INTERVAL_MS, openStorage, startGarbageCollection } from '../../src/storage/open.js';
import { createStorage } from '../../src/storage/records.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import type { Logger } from '../../src/telemetry/logger.js';
import { expectStorageError } from './conformance.js';
import { HOUR, authCode, client } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'idgate-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recordingLogger() {
  const lines: Array<{ level: string; fields: unknown; message?: string }> = [];
  const at = (level: string) => (fields: unknown, message?: string) => void lines.push({ level, fields, message });
  const logger = { info: at('info'), debug: at('debug'), error: at('error'), warn: at('warn') } as unknown as Logger;
  return { logger, lines };
}

describe('openStorage', () => {
  it('opens memory storage that reads time from the given clock', async () => {
    const clock = manualClock();
    const storage = await openStorage({ type: 'memory' }, { now: clock });
    await storage.authCodes.create(authCode('c', clock()));
    clock.advance(HOUR);
    expect(await storage.authCodes.get('c')).toBeUndefined();
    await storage.close();
  });

  it('opens (creating) the sqlite3 file the config names', async () => {
    const file = join(dir, 'sub', 'idgate.db');
    const storage = await openStorage({ type: 'sqlite3', config: { file } });
    await storage.clients.create(client('app'));
    expect(existsSync(file)).toBe(true);
    await storage.close();
    const reopened = await openStorage({ type: 'sqlite3', config: { file } });
    expect(await reopened.clients.get('app')).toEqual(client('app'));
    await reopened.close();
  });

  it('reports a PostgreSQL server it cannot reach as unavailable', async () => {
    const config = { type: 'postgres' as const, config: { host: '127.0.0.1', port: 1, database: 'idgate', user: 'idgate', connectionTimeout: 2 } };
    await expectStorageError(openStorage(config), 'unavailable');
  });
});

describe('startGarbageCollection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('deletes expired records soon after start (5 s), then every interval (5 minutes by default), and logs the counts', async () => {
    const clock = manualClock();
    const storage = createStorage(createMemoryBackend(), { now: clock });
    await storage.authCodes.create(authCode('old', clock()));
    const { logger, lines } = recordingLogger();
    const stop = startGarbageCollection(storage, { now: clock, logger });

    clock.advance(HOUR);
    await vi.advanceTimersByTimeAsync(DEFAULT_GC_FIRST_RUN_MS - 1);
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(lines).toEqual([expect.objectContaining({ level: 'info', fields: { deleted: expect.objectContaining({ authCodes: 1, clients: 0 }) } })]);
    await storage.authCodes.create(authCode('later', clock() - HOUR));
    await vi.advanceTimersByTimeAsync(DEFAULT_GC_INTERVAL_MS - DEFAULT_GC_FIRST_RUN_MS - 1);
    expect(lines).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    lines.shift();
    expect(lines).toEqual([expect.objectContaining({ level: 'info', fields: { deleted: expect.objectContaining({ authCodes: 1, clients: 0 }) } })]);

    clock.set(clock() - HOUR); // the codes would be visible again had gc not deleted them
    expect(await storage.authCodes.get('old')).toBeUndefined();
    expect(await storage.authCodes.get('later')).toBeUndefined();
    stop();
  });

  it('logs a failing run and keeps running; stop ends it', async () => {
    const gc = vi.fn().mockRejectedValueOnce(new Error('disk on fire')).mockResolvedValue({ authCodes: 0 });
    const storage = { gc } as unknown as Parameters<typeof startGarbageCollection>[0];
    const { logger, lines } = recordingLogger();
    const stop = startGarbageCollection(storage, { intervalMs: 1_000, now: () => 42, logger });

    await vi.advanceTimersByTimeAsync(2_000);
    expect(gc).toHaveBeenCalledTimes(2);
    expect(gc).toHaveBeenCalledWith(42);
    expect(lines.map((l) => l.level)).toEqual(['error', 'debug']);
    stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it('never starts a run while the previous one is still going', async () => {
    let finish: (() => void) | undefined;
    const gc = vi.fn(() => new Promise<Record<string, number>>((resolve) => { finish = () => resolve({}); }));
    const stop = startGarbageCollection({ gc } as unknown as Parameters<typeof startGarbageCollection>[0], { intervalMs: 1_000 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(gc).toHaveBeenCalledTimes(1);
    finish?.();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(gc).toHaveBeenCalledTimes(2);
    stop();
  });

  it('does not keep the process alive', () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const stop = startGarbageCollection({ gc: vi.fn() } as unknown as Parameters<typeof startGarbageCollection>[0]);
    const timer = setIntervalSpy.mock.results[0]?.value as { hasRef(): boolean };
    expect(timer.hasRef()).toBe(false);
    stop();
  });
});
