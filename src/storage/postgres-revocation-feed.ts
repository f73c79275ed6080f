/**
 * The PostgreSQL revocation feed: one dedicated connection LISTENs on `idgate_revocations`, where the
 * backend's insert of a revocation calls pg_notify in the same statement (so only committed revocations
 * are announced). A lost connection is re-established with backoff; after each (re)connect the feed
 * re-reads the collection, so nothing announced while it was away is missed.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { postgresPoolSettings, type PostgresStorageConfig } from './postgres-config.js';
import { unavailable } from './postgres-errors.js';
import { REVOCATION_CHANNEL, type RevocationNotice } from './postgres.js';
import { deliverSafely, type RevocationFeed, type RevocationSource } from './revocation-feed.js';
import { StorageError, type Revocation } from './storage.js';

export interface PostgresFeedOptions {
  /** Read at start and after every reconnect, and for notices too large to carry the record. */
  revocations: RevocationSource;
  logger?: Logger;
  /** First reconnect delay, doubled on every failure up to `maxBackoffMs`. Defaults 100 ms and 5 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How often the idle listener checks its connection, to notice a silent network loss; a check not
   * answered before the next is due counts as a lost connection. Default 10 s.
   */
  heartbeatMs?: number;
}

export function createPostgresRevocationFeed(config: PostgresStorageConfig, options: PostgresFeedOptions): RevocationFeed {
  const { revocations, logger } = options;
  const minBackoffMs = options.minBackoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const { pool, schema } = postgresPoolSettings(config);
  const clientConfig: pg.ClientConfig = { ...pool, query_timeout: heartbeatMs };
  let deliver: (revocation: Revocation) => void = () => undefined;
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;

  async function onNotice(payload: string | undefined): Promise<void> {
    const notice = JSON.parse(payload ?? '{}') as Partial<RevocationNotice>;
    if (notice.schema !== schema) return; // another deployment's schema
    if (notice.data) return deliver(JSON.parse(notice.data) as Revocation);
    if (notice.id === undefined) return (await revocations.list()).forEach(deliver);
    const revocation = await revocations.get(notice.id);
    if (revocation) deliver(revocation);
  }

  /** Connects, LISTENs, then delivers what exists: any revocation stored meanwhile arrives one way or the other. */
  async function connect(): Promise<void> {
    const next = new pg.Client(clientConfig);
    let broken: unknown; // set if the connection dies before it becomes `client` (e.g. during the catch-up read)
    const onBroken = (error: unknown) => {
      broken ??= error;
      lost(next, error);
    };
    next.on('error', onBroken);
    next.on('end', () => onBroken(new Error('connection ended')));
    next.on('notification', (message) => {
      if (message.channel !== REVOCATION_CHANNEL) return;
      onNotice(message.payload).catch((error: unknown) =>
        logger?.warn({ err: error }, 'revocation feed: could not read an announced revocation'));
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${REVOCATION_CHANNEL}`);
      if (!closed) for (const revocation of await revocations.list()) deliver(revocation);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => undefined);
      throw error instanceof StorageError ? error : unavailable('listening for revocations', error);
    }
    if (closed || broken !== undefined) {
      await next.end().catch(() => undefined);
      if (closed) return;
      throw unavailable('listening for revocations', broken);
    }
    client = next;
    failures = 0;
    heartbeatTimer = setInterval(() => {
      next.query('SELECT 1').catch((error: unknown) => lost(next, error));
    }, heartbeatMs).unref();
  }

  function lost(which: pg.Client, error: unknown): void {
    if (which !== client || closed) return;
    client = undefined;
    clearInterval(heartbeatTimer);
    which.end().catch(() => undefined);
    logger?.warn({ err: error }, 'revocation feed: lost its PostgreSQL connection; reconnecting');
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed) return;
    const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** failures);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // jitter: replicas do not reconnect in lockstep
    failures++;
    reconnectTimer = setTimeout(() => {
      connect().catch((error: unknown) => {
        logger?.warn({ err: error }, 'revocation feed: reconnect failed; retrying');
        scheduleReconnect();
      });
    }, delay);
    reconnectTimer.unref();
  }

  return {
    async start(onRevoked) {
      deliver = deliverSafely(onRevoked, logger);
      await connect();
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      clearInterval(heartbeatTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
