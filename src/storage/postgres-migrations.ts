/**
 * Versioned schema migrations for the PostgreSQL backend. Every replica runs `migrate` at start-up;
 * a transaction-scoped advisory lock per schema serialises them, so each migration is applied exactly
 * once even when replicas start together, and a failed migration leaves nothing half-applied.
 */
import type { ClientBase } from 'pg';
import { quoteIdentifier } from './postgres-config.js';

export interface Migration {
  /** Strictly increasing; recorded in `schema_migrations` once applied. */
  version: number;
  name: string;
  statements: readonly string[];
}

/** The table mirrors sqlite.ts's: one row per record, JSON in `data`, the CAS token in `version`. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'records table',
    statements: [
      `CREATE TABLE records (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        version BIGINT NOT NULL,
        index_key TEXT,
        expires_at BIGINT,
        data TEXT NOT NULL,
        PRIMARY KEY (kind, id)
      )`,
      'CREATE INDEX records_kind_index_key ON records (kind, index_key)',
      'CREATE INDEX records_expires_at ON records (expires_at)',
    ],
  },
];

/** First key of the two-int advisory lock: "idgate migrations". The second is hashtext(schema). */
const MIGRATION_LOCK_CLASS = 0x1d9a7e;

/**
 * Creates the schema if missing and applies the migrations it has not seen, in one transaction.
 * Returns the versions this call applied (empty when another replica got there first).
 */
export async function migrate(
  client: ClientBase,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const quoted = quoteIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when it exists.
    const existing = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (existing.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(done.rows.map((row) => row.version));
    const newlyApplied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await client.query(statement);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      newlyApplied.push(migration.version);
    }
    await client.query('COMMIT');
    return newlyApplied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
