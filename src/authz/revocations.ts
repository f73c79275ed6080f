/**
 * The filter's deny-list of revoked sessions (sid), tokens (jti), refresh-token families (grant: every
 * access token whose jti carries the family's grant tag, at its issuer) and subjects (every token of a
 * user issued before the revocation), fed by the storage's revocation feed (PostgreSQL LISTEN/NOTIFY,
 * polling otherwise) so a revocation reaches every filter within a second. The decision path asks it
 * after the verified-token cache, so a cached token is refused too. Entries live until the revoked
 * tokens' expiry and are pruned after.
 */
import type { Logger } from 'pino';
import { openStorage, type StorageConfig } from '../storage/open.js';
import { createPollingRevocationFeed, type RevocationFeed } from '../storage/revocation-feed.js';
import { AlreadyExistsError, grantKey, grantTagOfJti, issuedBeforeRevocation, subjectKey, type Revocation, type Storage } from '../storage/storage.js';

/** The claims of a verified token the deny-list looks at; values of other types are nobody's. */
export interface RevocableToken {
  iss?: unknown;
  sub?: unknown;
  iat?: unknown;
  sid?: unknown;
  jti?: unknown;
}

/** What the decision path needs: is this verified token, its session or its subject revoked? */
export interface RevocationCheck {
  isRevoked(token: RevocableToken): boolean;
}

/** How often expired entries are swept; lookups ignore them in between. */
export const PRUNE_INTERVAL_MS = 60_000;

/** When a revocation was made (`sub` only) and until when it holds. */
interface Entry {
  revokedAt: number;
  expiresAt: number;
}

export class RevocationList implements RevocationCheck {
  private readonly maps = { sid: new Map<string, Entry>(), jti: new Map<string, Entry>(), grant: new Map<string, Entry>(), sub: new Map<string, Entry>() };

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Adds (or extends) a revocation. A feed may deliver one twice, and a subject may be revoked again:
   * the later instant and the later expiry win.
   */
  add(revocation: Pick<Revocation, 'kind' | 'value' | 'expiresAt'> & { createdAt?: number }): void {
    if (revocation.expiresAt <= this.now()) return;
    const map = this.maps[revocation.kind];
    if (!map) return;
    const known = map.get(revocation.value);
    const revokedAt = revocation.createdAt ?? this.now();
    map.set(revocation.value, {
      revokedAt: Math.max(known?.revokedAt ?? revokedAt, revokedAt),
      expiresAt: Math.max(known?.expiresAt ?? revocation.expiresAt, revocation.expiresAt),
    });
  }

  isRevoked(token: RevocableToken): boolean {
    const { sid, jti, grant, sub } = this.maps;
    if (sid.size === 0 && jti.size === 0 && grant.size === 0 && sub.size === 0) return false;
    const now = this.now();
    if (typeof token.sid === 'string' && live(sid.get(token.sid), now)) return true;
    if (typeof token.jti === 'string' && live(jti.get(token.jti), now)) return true;
    if (typeof token.iss !== 'string') return false;
    if (grant.size > 0 && typeof token.jti === 'string') {
      const tag = grantTagOfJti(token.jti);
      if (tag !== undefined && live(grant.get(grantKey(token.iss, tag)), now)) return true;
    }
    if (sub.size === 0 || typeof token.sub !== 'string') return false;
    const subject = sub.get(subjectKey(token.iss, token.sub));
    return live(subject, now) && issuedBeforeRevocation(token.iat, subject!.revokedAt);
  }

  /** Drops expired entries; returns how many. */
  prune(): number {
    const now = this.now();
    let dropped = 0;
    for (const map of Object.values(this.maps)) {
      for (const [value, entry] of map) {
        if (entry.expiresAt <= now) {
          map.delete(value);
          dropped++;
        }
      }
    }
    return dropped;
  }

  get size(): number {
    return this.maps.sid.size + this.maps.jti.size + this.maps.grant.size + this.maps.sub.size;
  }
}

function live(entry: Entry | undefined, now: number): boolean {
  return entry !== undefined && entry.expiresAt > now;
}

export interface RunningRevocationList {
  list: RevocationList;
  /**
   * Writes a revocation where the feed reads it, so every replica refuses it within a second, and adds
   * it to this list at once (browser sign-out, back-channel logout). Revoking again extends it.
   */
  revoke(revocation: Revocation): Promise<void>;
  close(): Promise<void>;
}

async function writeRevocation(storage: Pick<Storage, 'revocations'>, list: RevocationList, revocation: Revocation): Promise<void> {
  try {
    await storage.revocations.create(revocation);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    await storage.revocations.update(revocation.id, (current) => ({
      ...current, createdAt: Math.max(current.createdAt, revocation.createdAt), expiresAt: Math.max(current.expiresAt, revocation.expiresAt),
    }));
  }
  list.add(revocation);
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
    revoke: async (revocation) => list.add(revocation),
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
      revoke: (revocation) => writeRevocation(storage, running.list, revocation),
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
