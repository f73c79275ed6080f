/**
 * The filter's deny-list of revoked sessions (sid) and tokens (jti), fed by the storage's revocation
 * feed (PostgreSQL LISTEN/NOTIFY, polling otherwise) so a revocation reaches every filter within a
 * second. The decision path asks it after the verified-token cache, so a cached token is refused too.
 * Entries live until the revoked tokens' expiry and are pruned after.
 */
import type { Logger } from 'pino';
import { openStorage, type StorageConfig } from '../storage/open.js';
import { createPollingRevocationFeed, type RevocationFeed } from '../storage/revocation-feed.js';
import type { Revocation, Storage } from '../storage/storage.js';

/** What the decision path needs: is this verified token's session or the token itself revoked? */
export interface RevocationCheck {
  isRevoked(sid: string | undefined, jti: string | undefined): boolean;
}

/** True if a verified token's `sid` or `jti` (strings only; other types are nobody's) is revoked. */
export function isTokenRevoked(check: RevocationCheck, payload: { sid?: unknown; jti?: unknown }): boolean {
  return check.isRevoked(typeof payload.sid === 'string' ? payload.sid : undefined, typeof payload.jti === 'string' ? payload.jti : undefined);
}

/** How often expired entries are swept; lookups ignore them in between. */
export const PRUNE_INTERVAL_MS = 60_000;

export class RevocationList implements RevocationCheck {
  private readonly sids = new Map<string, number>();
  private readonly jtis = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds (or extends) a revocation; a feed may deliver one twice, the later expiry wins. */
  add(revocation: Pick<Revocation, 'kind' | 'value' | 'expiresAt'>): void {
    if (revocation.expiresAt <= this.now()) return;
    const map = revocation.kind === 'sid' ? this.sids : revocation.kind === 'jti' ? this.jtis : undefined;
    if (!map) return;
    const known = map.get(revocation.value);
    if (known === undefined || known < revocation.expiresAt) map.set(revocation.value, revocation.expiresAt);
  }

  isRevoked(sid: string | undefined, jti: string | undefined): boolean {
    if (this.sids.size === 0 && this.jtis.size === 0) return false;
    const now = this.now();
    return (sid !== undefined && live(this.sids, sid, now)) || (jti !== undefined && live(this.jtis, jti, now));
  }

  /** Drops expired entries; returns how many. */
  prune(): number {
    const now = this.now();
    let dropped = 0;
    for (const map of [this.sids, this.jtis]) {
      for (const [value, expiresAt] of map) {
        if (expiresAt <= now) {
          map.delete(value);
          dropped++;
        }
      }
    }
    return dropped;
  }

  get size(): number {
    return this.sids.size + this.jtis.size;
  }
}

function live(map: Map<string, number>, value: string, now: number): boolean {
  const expiresAt = map.get(value);
  return expiresAt !== undefined && expiresAt > now;
}

export interface RunningRevocationList {
  list: RevocationList;
  close(): Promise<void>;
}

/** Starts the feed into a new list (resolves once everything revoked so far is in) and the prune timer. */
export async function startRevocationList(
  feed: RevocationFeed,
  options: { now?: () => number; pruneIntervalMs?: number } = {},
): Promise<RunningRevocationList> {
  const list = new RevocationList(options.now);
  await feed.start((revocation) => list.add(revocation));
  const timer = setInterval(() => list.prune(), options.pruneIntervalMs ?? PRUNE_INTERVAL_MS);
  timer.unref();
  return {
    list,
    async close() {
      clearInterval(timer);
      await feed.close();
    },
  };
}

/**
 * The feed for a storage config: LISTEN/NOTIFY on PostgreSQL (loaded only then), polling the
 * revocations collection otherwise. Undefined for memory storage without an issuer in the process:
 * nothing else can write to that store.
 */
export async function openRevocationFeed(
  config: StorageConfig,
  storage: Pick<Storage, 'revocations'>,
  options: { logger?: Logger; sharedWithIssuer: boolean; pollIntervalMs?: number },
): Promise<RevocationFeed | undefined> {
  const logger = options.logger;
  switch (config.type) {
    case 'postgres': {
      const { createPostgresRevocationFeed } = await import('../storage/postgres-revocation-feed.js');
      return createPostgresRevocationFeed(config.config, { revocations: storage.revocations, ...(logger ? { logger } : {}) });
    }
    case 'sqlite3':
      return createPollingRevocationFeed(storage.revocations, { ...(logger ? { logger } : {}), ...(options.pollIntervalMs ? { intervalMs: options.pollIntervalMs } : {}) });
    case 'memory':
      return options.sharedWithIssuer ? createPollingRevocationFeed(storage.revocations, { ...(logger ? { logger } : {}), intervalMs: 100 }) : undefined;
  }
}

/**
 * The deny-list for a filter: on the issuer's storage when the issuer shares the process, else on a
 * storage opened for the filter (closed with the list). Undefined when nothing can revoke (memory
 * storage without an issuer). Rejects if the storage cannot be reached at start.
 */
export async function startFilterRevocations(
  config: StorageConfig,
  options: { issuerStorage?: Pick<Storage, 'revocations'>; logger?: Logger },
): Promise<RunningRevocationList | undefined> {
  if (!options.issuerStorage && config.type === 'memory') return undefined;
  const opened = options.issuerStorage ? undefined : await openStorage(config, options.logger ? { logger: options.logger } : {});
  const storage = options.issuerStorage ?? opened!;
  try {
    const feed = await openRevocationFeed(config, storage, { sharedWithIssuer: options.issuerStorage !== undefined, ...(options.logger ? { logger: options.logger } : {}) });
    if (!feed) {
      await opened?.close();
      return undefined;
    }
    const running = await startRevocationList(feed);
    return {
      list: running.list,
      async close() {
        await running.close();
        await opened?.close();
      },
    };
  } catch (error) {
    await opened?.close();
    throw error;
  }
}
