/**
 * Opens the storage the config's `storage` section names (memory, sqlite3 or postgres) and runs its
 * periodic garbage collection. PostgreSQL is imported only when configured, so nothing loads `pg` otherwise.
 */
import type { ParsedConfig } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';
import { createMemoryBackend } from './memory.js';
import { createStorage } from './records.js';
import { createSealer, loadSealingKeys, type Sealer } from './sealing.js';
import { createSqliteBackend } from './sqlite.js';
import type { EpochMs, RecordBackend, Storage } from './storage.js';

export type StorageConfig = ParsedConfig['storage'];

export interface OpenStorageOptions {
  now?: () => EpochMs;
  logger?: Logger;
  /** Where keyEnv keys are read from; process.env by default. */
  env?: Record<string, string | undefined>;
}

/** The sealer storage.sealing configures, or undefined when sealing is off. Throws SealingError naming a bad key. */
export function sealerFor(config: StorageConfig, env: Record<string, string | undefined> = process.env): Sealer | undefined {
  return config.sealing ? createSealer(loadSealingKeys(config.sealing.keys, env)) : undefined;
}

export async function openBackend(config: StorageConfig, logger: Logger | undefined): Promise<RecordBackend> {
  switch (config.type) {
    case 'memory':
      return createMemoryBackend();
    case 'sqlite3':
      return createSqliteBackend({ file: config.config.file });
    case 'postgres': {
      const { createPostgresBackend } = await import('./postgres.js');
      return createPostgresBackend(config.config, logger ? { logger } : {});
    }
  }
}

/** The typed storage for `config`, migrated and ready; throws StorageUnavailableError if it cannot be opened. */
export async function openStorage(config: StorageConfig, options: OpenStorageOptions = {}): Promise<Storage> {
  const sealer = sealerFor(config, options.env);
  const backend = await openBackend(config, options.logger);
  options.logger?.debug({ storage: config.type, sealedWith: sealer?.writeKeyId }, 'storage opened');
  if (!sealer && config.type !== 'memory') {
    options.logger?.warn({ storage: config.type }, 'storage.sealing is not configured: signing keys and upstream tokens are stored unencrypted (docs/storage.md#sealing)');
  }
  return createStorage(backend, { ...(options.now ? { now: options.now } : {}), ...(sealer ? { sealer } : {}) });
}

export interface GarbageCollectionOptions {
  /** Between runs; Dex's 5 minutes by default (storage.gcInterval). */
  intervalMs?: number;
  /** Before the first run, so a restart does not leave expired records for a whole interval; 5 s by default. */
  firstRunMs?: number;
  now?: () => EpochMs;
  logger?: Logger;
}

export const DEFAULT_GC_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_GC_FIRST_RUN_MS = 5_000;

/**
 * Deletes expired records shortly after start (`firstRunMs`), then every `intervalMs`, on timers that do
 * not keep the process alive. A run that fails is logged and the next one tried; a run never overlaps
 * the previous one. Returns `stop`.
 */
export function startGarbageCollection(storage: Storage, options: GarbageCollectionOptions = {}): () => void {
  const now = options.now ?? Date.now;
  let running = false;

  const collect = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const counts = await storage.gc(now());
      const deleted = Object.values(counts).reduce((sum, n) => sum + n, 0);
      if (deleted > 0) options.logger?.info({ deleted: counts }, 'storage gc deleted expired records');
      else options.logger?.debug('storage gc found nothing expired');
    } catch (error) {
      options.logger?.error({ err: error }, 'storage gc failed; retrying at the next interval');
    } finally {
      running = false;
    }
  };

  const intervalMs = options.intervalMs ?? DEFAULT_GC_INTERVAL_MS;
  const firstRunMs = options.firstRunMs ?? DEFAULT_GC_FIRST_RUN_MS;
  // An interval no longer than the first delay runs soon enough on its own.
  const first = firstRunMs < intervalMs ? setTimeout(() => void collect(), firstRunMs) : undefined;
  first?.unref();
  const timer = setInterval(() => void collect(), intervalMs);
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
