/**
 * The PostgreSQL RecordBackend: the records table of sqlite.ts behind a node-postgres Pool, for many
 * replicas on one database. Every operation is one SQL statement, so atomicity (CAS, take, insert over
 * an expired row) is PostgreSQL's; a lost connection surfaces as StorageUnavailableError and the pool
 * replaces the connection by itself.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { postgresPoolSettings, quoteIdentifier, type PostgresStorageConfig } from './postgres-config.js';
import { mapQueryError, unavailable } from './postgres-errors.js';
import { migrate } from './postgres-migrations.js';
import { StorageError, type EpochMs, type RawRecord, type RecordBackend, type RecordKind } from './storage.js';

export type { PostgresStorageConfig } from './postgres-config.js';

/** The LISTEN/NOTIFY channel on which inserted revocations are announced (see revocation-feed.ts). */
export const REVOCATION_CHANNEL = 'idgate_revocations';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_NOTIFY_PAYLOAD = 7900;

/**
 * What `pg_notify` carries: the schema (several deployments may share a database) and the record; a
 * record too large to carry is announced by ID, and one whose ID alone is too large by schema only
 * ("re-read the revocations").
 */
export interface RevocationNotice {
  schema: string;
  id?: string;
  data?: string;
}

export interface PostgresBackendOptions {
  logger?: Logger;
  /**
   * How long one storage statement may wait for its answer before the call fails as unavailable, so
   * a silent network loss cannot hang a request. Default 30 s. Migrations are not limited.
   */
  queryTimeoutMs?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

const COLUMNS = 'id, version, index_key, expires_at, data';
/** "Not expired at $n": a record with expiresAt <= now is treated as absent. */
const live = (n: number) => `(expires_at IS NULL OR expires_at > $${n})`;

interface RecordRow {
  id: string;
  version: string;
  index_key: string | null;
  expires_at: string | null;
  data: string;
}

/** Opens the pool, applies pending migrations and returns the backend. */
export async function createPostgresBackend(
  config: PostgresStorageConfig,
  options: PostgresBackendOptions = {},
): Promise<RecordBackend> {
  const settings = postgresPoolSettings(config);
  const pool = new pg.Pool(settings.pool);
  const logger = options.logger;
  // A connection that dies while idle (restart, pg_terminate_backend) is dropped by the pool, which
  // then reports it here; without this listener the process would crash on an 'error' event.
  pool.on('error', (error) => {
    logger?.warn({ err: error }, 'postgres: an idle connection was lost; the pool will open a new one');
  });
  // Checked-out clients have no listener of their own; a socket dying mid-query also emits 'error'.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const backend = new PostgresRecordBackend(pool, settings.schema, settings.maxIdleConns, queryTimeoutMs);
  try {
    await backend.withClient('migrating', (client) => migrate(client, settings.schema));
  } catch (error) {
    await pool.end().catch(() => undefined);
    // Like SQLite's: a store that cannot be opened (refused, no privilege, a failed migration) is unavailable.
    throw error instanceof StorageError ? error : unavailable('migrating', error);
  }
  return backend;
}

class PostgresRecordBackend implements RecordBackend {
  private closed = false;
  /**
   * The table, schema-qualified: connections also start with search_path set to the schema, but a
   * pooler (PgBouncer) may drop that start-up option, and the right table must not depend on it.
   */
  private readonly records: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly maxIdleConns: number,
    private readonly queryTimeoutMs: number,
  ) {
    this.records = `${quoteIdentifier(schema)}.records`;
  }

  async get(kind: RecordKind, id: string, now: EpochMs): Promise<RawRecord | undefined> {
    const result = await this.query<RecordRow>(`get ${kind}`,
      `SELECT ${COLUMNS} FROM ${this.records} WHERE kind = $1 AND id = $2 AND ${live(3)}`, [kind, id, now]);
    return result.rows[0] && toRawRecord(result.rows[0]);
  }

  async insert(kind: RecordKind, record: RawRecord, now: EpochMs): Promise<boolean> {
    // An expired row with the same ID is overwritten in the same statement. Its version moves past the
    // old one, so a CAS prepared against the expired record can never land on the new one.
    const upsert = `INSERT INTO ${this.records} AS stored (kind, id, version, index_key, expires_at, data)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (kind, id) DO UPDATE SET version = GREATEST(EXCLUDED.version, stored.version + 1),
        index_key = EXCLUDED.index_key, expires_at = EXCLUDED.expires_at, data = EXCLUDED.data
      WHERE stored.expires_at IS NOT NULL AND stored.expires_at <= $7
      RETURNING id`;
    const values = [kind, record.id, record.version, record.indexKey, record.expiresAt, record.data, now];
    return this.writeAndAnnounce(`insert ${kind}`, kind, upsert, values, record);
  }

  async replace(kind: RecordKind, record: RawRecord, expectedVersion: number): Promise<boolean> {
    const update = `UPDATE ${this.records} SET version = $4, index_key = $5, expires_at = $6, data = $7
      WHERE kind = $1 AND id = $2 AND version = $3 RETURNING id`;
    const values = [kind, record.id, expectedVersion, record.version, record.indexKey, record.expiresAt, record.data];
    return this.writeAndAnnounce(`replace ${kind}`, kind, update, values, record);
  }

  async delete(kind: RecordKind, id: string): Promise<boolean> {
    const result = await this.query(`delete ${kind}`, `DELETE FROM ${this.records} WHERE kind = $1 AND id = $2`, [kind, id]);
    return result.rowCount === 1;
  }

  async take(kind: RecordKind, id: string, now: EpochMs): Promise<RawRecord | undefined> {
    const result = await this.query<RecordRow>(`take ${kind}`,
      `DELETE FROM ${this.records} WHERE kind = $1 AND id = $2 AND ${live(3)} RETURNING ${COLUMNS}`, [kind, id, now]);
    return result.rows[0] && toRawRecord(result.rows[0]);
  }

  /** Unordered: createStorage sorts by ID the same way for every backend. */
  async list(kind: RecordKind, index: string | undefined, now: EpochMs): Promise<RawRecord[]> {
    const result = index === undefined
      ? await this.query<RecordRow>(`list ${kind}`,
        `SELECT ${COLUMNS} FROM ${this.records} WHERE kind = $1 AND ${live(2)}`, [kind, now])
      : await this.query<RecordRow>(`list ${kind}`,
        `SELECT ${COLUMNS} FROM ${this.records} WHERE kind = $1 AND index_key = $2 AND ${live(3)}`, [kind, index, now]);
    return result.rows.map(toRawRecord);
  }

  async gc(now: EpochMs): Promise<Record<string, number>> {
    const result = await this.query<{ kind: string; count: string }>('gc',
      `WITH deleted AS (DELETE FROM ${this.records} WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING kind)
       SELECT kind, count(*) AS count FROM deleted GROUP BY kind`, [now]);
    return Object.fromEntries(result.rows.map((row) => [row.kind, Number(row.count)]));
  }

  async ping(): Promise<void> {
    await this.query('ping', 'SELECT 1', []);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /**
   * Runs a write; for revocations, `pg_notify` runs in the same statement, so the notice goes out
   * exactly when (and only if) the write commits.
   */
  private async writeAndAnnounce(
    during: string, kind: RecordKind, write: string, values: unknown[], record: RawRecord,
  ): Promise<boolean> {
    if (kind !== 'revocations') return (await this.query(during, write, values)).rowCount === 1;
    const notices: RevocationNotice[] = [
      { schema: this.schema, id: record.id, data: record.data }, { schema: this.schema, id: record.id }, { schema: this.schema },
    ];
    const payload = notices.map((notice) => JSON.stringify(notice)).find((text) => Buffer.byteLength(text) <= MAX_NOTIFY_PAYLOAD);
    const announce = `WITH written AS (${write})
      SELECT pg_notify('${REVOCATION_CHANNEL}', $${values.length + 1}) FROM written`;
    return (await this.query(during, announce, [...values, payload])).rowCount === 1;
  }

  private async query<Row extends pg.QueryResultRow>(during: string, text: string, values: unknown[]) {
    const query: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: this.queryTimeoutMs };
    return this.withClient(during, (client) => client.query<Row>(query));
  }

  /**
   * Checks a client out for `work`. A client that failed is destroyed, never reused; a healthy one
   * goes back to the pool unless maxIdleConns are already idle (database/sql's SetMaxIdleConns rule).
   */
  async withClient<T>(during: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw unavailable(during, new Error('the storage was closed'));
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(during, error);
    }
    try {
      const result = await work(client);
      const idleIsFull = this.pool.waitingCount === 0 && this.pool.idleCount >= this.maxIdleConns;
      client.release(idleIsFull);
      return result;
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw mapQueryError(during, error);
    }
  }
}

function toRawRecord(row: RecordRow): RawRecord {
  return {
    id: row.id,
    version: Number(row.version),
    indexKey: row.index_key,
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    data: row.data,
  };
}
