/**
 * Versioned schema migrations for the SQLite backend. Each runs once, inside its own IMMEDIATE
 * transaction together with its `schema_migrations` row, so two processes opening the same file at once
 * cannot both apply it. Append new migrations; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'records',
    sql: `
      CREATE TABLE records (
        kind       TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        version    INTEGER NOT NULL,
        index_key  TEXT,
        expires_at INTEGER,
        data       TEXT    NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX records_kind_index_key ON records (kind, index_key);
      CREATE INDEX records_expires_at ON records (expires_at);
    `,
  },
];

/** Applies every migration `db` has not seen yet; returns the versions it applied (empty when up to date). */
export function migrateSqlite(db: Database.Database, migrations: readonly Migration[] = SQLITE_MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);
  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, name) VALUES (?, ?)');
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const apply = db.transaction(() => {
      if (isApplied.get(migration.version)) return false;
      db.exec(migration.sql);
      record.run(migration.version, migration.name);
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
