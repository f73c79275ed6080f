/**
 * The SQLite backend (storage.type: sqlite3), on better-sqlite3: the zero-setup store for one process.
 * Every kind lives in one table; the PostgreSQL backend mirrors this design. Canonical DDL (migration 1,
 * see sqlite-migrations.ts; Postgres uses BIGINT for version/expires_at):
 *
 *   CREATE TABLE records (
 *     kind       TEXT    NOT NULL,  -- RecordKind: 'clients', 'authCodes', ...
 *     id         TEXT    NOT NULL,
 *     version    INTEGER NOT NULL,  -- CAS token: 1 on insert, +1 on every write
 *     index_key  TEXT,              -- secondary key for list({ index }), see indexKeyOf in records.ts
 *     expires_at INTEGER,           -- epoch ms; NULL = never expires; a row with expires_at <= now is absent
 *     data       TEXT    NOT NULL,  -- the record as JSON
 *     PRIMARY KEY (kind, id)
 *   );
 *   CREATE INDEX records_kind_index_key ON records (kind, index_key);
 *   CREATE INDEX records_expires_at ON records (expires_at);
 *
 * better-sqlite3 is synchronous, so each method is one statement (or one transaction) and atomic.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite } from './sqlite-migrations.js';
import { StorageUnavailableError, type EpochMs, type RawRecord, type RecordBackend, type RecordKind } from './storage.js';

export interface SqliteBackendOptions {
  /** Path of the database file; its directory is created if missing. ':memory:' for a private in-memory database. */
  file: string;
  /** How long a write waits for another connection's lock before failing as unavailable. */
  busyTimeoutMs?: number;
}

interface Row {
  id: string;
  version: number;
  index_key: string | null;
  expires_at: number | null;
  data: string;
}

const COLUMNS = 'id, version, index_key, expires_at, data';
const LIVE = '(expires_at IS NULL OR expires_at > @now)';

const toRaw = (row: Row): RawRecord => ({
  id: row.id, version: row.version, indexKey: row.index_key, expiresAt: row.expires_at, data: row.data,
});

/** Opens (creating if needed) and migrates the database file; any failure is StorageUnavailableError. */
function openDatabase(options: SqliteBackendOptions): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
    db = new Database(options.file);
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5_000)}`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL'); // safe with WAL: a power cut may lose the last commits, never corrupt
    migrateSqlite(db);
    return db;
  } catch (error) {
    db?.close();
    throw new StorageUnavailableError(`cannot open SQLite database ${options.file}: ${(error as Error).message}`, { cause: error });
  }
}

export function createSqliteBackend(options: SqliteBackendOptions): RecordBackend {
  const db = openDatabase(options);

  const statements = {
    get: db.prepare<{ kind: string; id: string; now: EpochMs }, Row>(
      `SELECT ${COLUMNS} FROM records WHERE kind = @kind AND id = @id AND ${LIVE}`),
    // Takes the ID of an expired row, bumping past its version so a stale CAS token cannot match.
    insert: db.prepare(
      `INSERT INTO records (kind, id, version, index_key, expires_at, data)
       VALUES (@kind, @id, @version, @indexKey, @expiresAt, @data)
       ON CONFLICT (kind, id) DO UPDATE SET
         version = max(excluded.version, records.version + 1), index_key = excluded.index_key,
         expires_at = excluded.expires_at, data = excluded.data
       WHERE records.expires_at IS NOT NULL AND records.expires_at <= @now`),
    replace: db.prepare(
      `UPDATE records SET version = @version, index_key = @indexKey, expires_at = @expiresAt, data = @data
       WHERE kind = @kind AND id = @id AND version = @expectedVersion`),
    delete: db.prepare('DELETE FROM records WHERE kind = ? AND id = ?'),
    take: db.prepare<{ kind: string; id: string; now: EpochMs }, Row>(
      `DELETE FROM records WHERE kind = @kind AND id = @id AND ${LIVE} RETURNING ${COLUMNS}`),
    list: db.prepare<{ kind: string; now: EpochMs }, Row>(
      `SELECT ${COLUMNS} FROM records WHERE kind = @kind AND ${LIVE} ORDER BY id`),
    listByIndex: db.prepare<{ kind: string; index: string; now: EpochMs }, Row>(
      `SELECT ${COLUMNS} FROM records WHERE kind = @kind AND index_key = @index AND ${LIVE} ORDER BY id`),
    gc: db.prepare<[EpochMs], { kind: string }>(
      'DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ? RETURNING kind'),
    ping: db.prepare('SELECT 1'),
  };

  /** Runs one database call, reporting a closed database or a SQLite failure as StorageUnavailableError. */
  function run<T>(what: string, call: () => T): Promise<T> {
    if (!db.open) return Promise.reject(new StorageUnavailableError('SQLite storage is closed'));
    try {
      return Promise.resolve(call());
    } catch (error) {
      return Promise.reject(new StorageUnavailableError(`SQLite ${what} failed: ${(error as Error).message}`, { cause: error }));
    }
  }

  const values = (kind: RecordKind, record: RawRecord) => ({
    kind, id: record.id, version: record.version, indexKey: record.indexKey, expiresAt: record.expiresAt, data: record.data,
  });

  return {
    get: (kind, id, now) => run('get', () => {
      const row = statements.get.get({ kind, id, now });
      return row && toRaw(row);
    }),
    insert: (kind, record, now) => run('insert', () => statements.insert.run({ ...values(kind, record), now }).changes > 0),
    replace: (kind, record, expectedVersion) =>
      run('replace', () => statements.replace.run({ ...values(kind, record), expectedVersion }).changes > 0),
    delete: (kind, id) => run('delete', () => statements.delete.run(kind, id).changes > 0),
    take: (kind, id, now) => run('take', () => {
      const row = statements.take.get({ kind, id, now });
      return row && toRaw(row);
    }),
    list: (kind, index, now) => run('list', () =>
      (index === undefined ? statements.list.all({ kind, now }) : statements.listByIndex.all({ kind, index, now })).map(toRaw)),
    gc: (now) => run('gc', () => {
      const counts: Record<string, number> = {};
      for (const { kind } of statements.gc.all(now)) counts[kind] = (counts[kind] ?? 0) + 1;
      return counts;
    }),
    ping: () => run('ping', () => {
      statements.ping.get();
    }),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
