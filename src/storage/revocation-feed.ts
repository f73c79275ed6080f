/**
 * Revocation feeds: how a filter learns that a session or token was revoked, so it can deny it within a
 * second. PostgreSQL pushes them (LISTEN/NOTIFY, postgres-revocation-feed.ts); with SQLite or memory
 * storage the feed polls `storage.revocations`. Both deliver at least once: the consumer keeps a set.
 */
import type { Logger } from 'pino';
import type { ParsedConfig } from '../config/schema.js';
import type { Collection, Revocation } from './storage.js';

export interface RevocationFeed {
  /**
   * Delivers every revocation that exists now, then each new one as it is stored. Resolves once the
   * feed is live; rejects (StorageUnavailableError) if the storage cannot be reached at start. The
   * same revocation may be delivered more than once (after a reconnect, for instance).
   */
  start(onRevoked: (revocation: Revocation) => void): Promise<void>;
  /** Stops delivering; idempotent. */
  close(): Promise<void>;
}

/** What a feed reads revocations from: the typed collection, or anything listing the same records. */
export type RevocationSource = Pick<Collection<Revocation>, 'list' | 'get'>;

export interface PollingFeedOptions {
  /** Time between two reads of the collection; the worst-case delay of a revocation. Default 500 ms. */
  intervalMs?: number;
  logger?: Logger;
}

export const DEFAULT_POLL_INTERVAL_MS = 500;

/** Calls `onRevoked` and keeps a throwing consumer from stopping the feed. */
export function deliverSafely(onRevoked: (revocation: Revocation) => void, logger: Logger | undefined) {
  return (revocation: Revocation): void => {
    try {
      onRevoked(revocation);
    } catch (error) {
      logger?.error({ err: error, revocation: revocation.id }, 'revocation feed: the consumer failed on a revocation');
    }
  };
}

/**
 * Reads the whole collection every `intervalMs` and delivers what it had not seen. A record is known
 * by ID and creation time, so an ID revoked again after its first revocation expired is delivered again.
 */
export function createPollingRevocationFeed(source: RevocationSource, options: PollingFeedOptions = {}): RevocationFeed {
  const intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const logger = options.logger;
  let seen = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function poll(deliver: (revocation: Revocation) => void): Promise<void> {
    const current = await source.list();
    const next = new Set<string>();
    for (const revocation of current) {
      const key = `${revocation.id}@${revocation.createdAt}`;
      next.add(key);
      if (!seen.has(key)) deliver(revocation);
    }
    seen = next; // expired records drop out, so the set stays as small as the collection
  }

  function schedule(deliver: (revocation: Revocation) => void): void {
    if (closed) return;
    timer = setTimeout(() => {
      poll(deliver)
        .catch((error: unknown) => logger?.warn({ err: error }, 'revocation feed: polling failed; retrying'))
        .finally(() => schedule(deliver));
    }, intervalMs);
    timer.unref();
  }

  return {
    async start(onRevoked) {
      const deliver = deliverSafely(onRevoked, logger);
      await poll(deliver);
      schedule(deliver);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The feed that suits the configured storage: LISTEN/NOTIFY for postgres (imported only then, like
 * the backend), polling otherwise. `revocations` should be the storage's own collection.
 */
export async function openRevocationFeed(
  config: ParsedConfig['storage'],
  revocations: RevocationSource,
  options: { logger?: Logger; pollIntervalMs?: number } = {},
): Promise<RevocationFeed> {
  if (config.type === 'postgres') {
    const { createPostgresRevocationFeed } = await import('./postgres-revocation-feed.js');
    return createPostgresRevocationFeed(config.config, { revocations, logger: options.logger });
  }
  return createPollingRevocationFeed(revocations, { logger: options.logger, intervalMs: options.pollIntervalMs });
}
