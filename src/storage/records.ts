/**
 * Turns a `RecordBackend` (opaque JSON rows with versions) into the typed `Storage` the rest of idgate
 * uses: (de)serialisation, expiry and index columns, compare-and-swap updates with bounded retries,
 * atomic take, the used-ID cache, and the read-only rule for records marked `static`.
 */
import { needsResealing, sealFields, SEALED_FIELDS, unsealFields, type Sealer } from './sealing.js';
import {
  AlreadyExistsError, NotFoundError, RECORD_KINDS, StorageError,
  type Collection, type EpochMs, type RawRecord, type RecordBackend, type RecordKind, type Storage,
} from './storage.js';

export interface CreateStorageOptions {
  /** The clock that decides what has expired; Date.now by default. */
  now?: () => EpochMs;
  /** How many compare-and-swap attempts `update` makes before it gives up with StorageError('conflict'). */
  maxUpdateAttempts?: number;
  /** Seals the secret fields of records at rest (storage.sealing); without it they are stored as they are. */
  sealer?: Sealer;
}

const DEFAULT_MAX_UPDATE_ATTEMPTS = 100;

/** Kinds that may hold `static: true` records (from the config file); only these pay for the read-only check. */
const STATIC_CAPABLE = new Set<RecordKind>(['clients', 'passwords', 'connectors']);

/**
 * The secondary lookup key each kind is stored with; `list({ index })` filters on it.
 * - refreshTokens: `identity.userId`, to list (and revoke) every session of a user.
 * - revocations: `userId`, to list what was revoked for a user.
 * - deviceRequests: `userCodeHash`, to find the request a person's user code names.
 * - loginSessions: `identity.userId`, to list (and end) a user's browser sessions.
 * - consents: `subject`, to list what one person consented to.
 * - every other kind: none. Codes and auth requests are only ever fetched by ID; clients, passwords
 *   and connectors are few enough to list whole.
 */
export function indexKeyOf(kind: RecordKind, record: object): string | null {
  switch (kind) {
    case 'refreshTokens':
    case 'loginSessions':
      return (record as { identity?: { userId?: string } }).identity?.userId ?? null;
    case 'revocations':
      return (record as { userId?: string }).userId ?? null;
    case 'deviceRequests':
      return (record as { userCodeHash?: string }).userCodeHash ?? null;
    case 'consents':
      return (record as { subject?: string }).subject ?? null;
    default:
      return null;
  }
}

/** Orders records by ID (code-unit order, the same in every backend and locale). */
export function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function expiresAtOf(record: object): EpochMs | null {
  const value = (record as { expiresAt?: unknown }).expiresAt;
  return typeof value === 'number' ? value : null;
}

function isStatic(record: object): boolean {
  return (record as { static?: unknown }).static === true;
}

function readOnly(kind: RecordKind, id: string): StorageError {
  return new StorageError('read_only', `${kind} ${id} comes from the config file and cannot be changed`);
}

/** Waits a random moment that grows with contention, so CAS losers stop retrying in lockstep. */
function backoff(attempt: number): Promise<void> {
  const ms = attempt < 3 ? 0 : Math.random() * Math.min(attempt, 20);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function createCollection<T extends { id: string }>(
  kind: RecordKind,
  backend: RecordBackend,
  now: () => EpochMs,
  maxUpdateAttempts: number,
  sealer: Sealer | undefined,
): Collection<T> {
  const decode = (row: RawRecord): T => unsealFields(kind, JSON.parse(row.data) as T, sealer);
  // The stored data each record `get` handed out was decoded from, so that `update(id, fn, { basis })`
  // reuses the basis rather than decode the same data again.
  const decodedFrom = new WeakMap<T, string>();
  /** The record `row` decodes to: `basis` when it was decoded from exactly this data, else a fresh decode. */
  const decodeOrReuse = (row: RawRecord, basis: T | undefined): T =>
    basis !== undefined && decodedFrom.get(basis) === row.data ? basis : decode(row);
  const encode = (record: T, version: number): RawRecord => ({
    id: record.id,
    version,
    indexKey: indexKeyOf(kind, record),
    expiresAt: expiresAtOf(record),
    data: JSON.stringify(sealFields(kind, record, sealer)),
  });

  async function refuseStatic(id: string): Promise<void> {
    if (!STATIC_CAPABLE.has(kind)) return;
    const row = await backend.get(kind, id, now());
    if (row && isStatic(decode(row))) throw readOnly(kind, id);
  }

  return {
    async get(id) {
      const row = await backend.get(kind, id, now());
      if (!row) return undefined;
      const record = decode(row);
      decodedFrom.set(record, row.data);
      return record;
    },

    async create(record) {
      if (!(await backend.insert(kind, encode(record, 1), now()))) throw new AlreadyExistsError(kind, record.id);
    },

    async update(id, updater, options) {
      for (let attempt = 1; attempt <= maxUpdateAttempts; attempt++) {
        const row = await backend.get(kind, id, now());
        if (!row) throw new NotFoundError(kind, id);
        // Still read each attempt: the write is conditional on the version just read, as without a basis.
        const current = decodeOrReuse(row, attempt === 1 ? options?.basis : undefined);
        if (isStatic(current)) throw readOnly(kind, id);
        const next = await updater(current);
        if (next.id !== id) throw new StorageError('conflict', `${kind} ${id}: an update may not change the ID (to ${next.id})`);
        if (await backend.replace(kind, encode(next, row.version + 1), row.version)) return next;
        await backoff(attempt);
      }
      throw new StorageError('conflict', `${kind} ${id}: gave up after ${maxUpdateAttempts} conflicting concurrent updates`);
    },

    async delete(id) {
      await refuseStatic(id);
      return backend.delete(kind, id);
    },

    async take(id) {
      await refuseStatic(id);
      const row = await backend.take(kind, id, now());
      return row ? decode(row) : undefined;
    },

    async list(filter) {
      const rows = await backend.list(kind, filter?.index, now());
      return rows.sort(byId).map(decode);
    },
  };
}

/** The typed storage over `backend`. Lists come back ordered by ID whatever the backend's order. */
export function createStorage(backend: RecordBackend, options: CreateStorageOptions = {}): Storage {
  const now = options.now ?? Date.now;
  const attempts = options.maxUpdateAttempts ?? DEFAULT_MAX_UPDATE_ATTEMPTS;
  const collection = <T extends { id: string }>(kind: RecordKind) => createCollection<T>(kind, backend, now, attempts, options.sealer);
  const usedIds = collection<{ id: string; expiresAt: EpochMs }>('usedIds');

  return {
    clients: collection('clients'),
    authRequests: collection('authRequests'),
    authCodes: collection('authCodes'),
    deviceRequests: collection('deviceRequests'),
    pushedAuthRequests: collection('pushedAuthRequests'),
    refreshTokens: collection('refreshTokens'),
    passwords: collection('passwords'),
    keys: collection('keys'),
    connectors: collection('connectors'),
    samlRequests: collection('samlRequests'),
    usedIds,
    revocations: collection('revocations'),
    loginFailures: collection('loginFailures'),
    mfaCredentials: collection('mfaCredentials'),
    loginSessions: collection('loginSessions'),
    consents: collection('consents'),
    consoleSessions: collection('consoleSessions'),
    trafficReports: collection('trafficReports'),

    async markUsed(namespace, id, expiresAt) {
      try {
        await usedIds.create({ id: `${namespace}:${id}`, expiresAt });
        return true;
      } catch (error) {
        if (error instanceof AlreadyExistsError) return false;
        throw error;
      }
    },

    ping: () => backend.ping(),

    /** Counts for every kind, zeros included, whatever the backend reports. */
    async gc(at) {
      const counts: Record<string, number> = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, 0]));
      for (const [kind, count] of Object.entries(await backend.gc(at))) counts[kind] = (counts[kind] ?? 0) + count;
      return counts;
    },

    close: () => backend.close(),
  };
}

/**
 * Re-seals, with the sealer's writing key, every live record whose secret fields are in clear or sealed
 * by an older key (compare-and-swap per record: a concurrent write wins and is already sealed with some
 * configured key, so the record is looked at again). Returns how many records of each kind were changed.
 */
export async function resealRecords(backend: RecordBackend, sealer: Sealer, now: () => EpochMs = Date.now): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const kind of Object.keys(SEALED_FIELDS) as RecordKind[]) {
    counts[kind] = 0;
    for (const listed of await backend.list(kind, undefined, now())) {
      for (let row: RawRecord | undefined = listed; row; row = await backend.get(kind, row.id, now())) {
        const stored = JSON.parse(row.data) as { id: string };
        if (!needsResealing(kind, stored, sealer)) break;
        const data = JSON.stringify(sealFields(kind, unsealFields(kind, stored, sealer), sealer));
        if (await backend.replace(kind, { ...row, version: row.version + 1, data }, row.version)) {
          counts[kind] += 1;
          break;
        }
      }
    }
  }
  return counts;
}

