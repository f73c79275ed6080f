/**
 * Dex's `sqlite3` storage file, opened read-only (the importer never writes to Dex), read in one
 * transaction so every table comes from the same moment.
 */
import { accessSync, constants, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DexImportError, type DexSource, type Row } from './source.js';

function checkReadable(file: string): void {
  try {
    accessSync(file, constants.R_OK);
    if (!statSync(file).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new DexImportError('unreadable', `cannot read the Dex database ${file}: ${reason}`, { cause: error });
  }
}

/** SQLite's answer for a file that is not a database at all. */
function isNotADatabase(error: unknown): boolean {
  return (error as { code?: string }).code === 'SQLITE_NOTADB';
}

export function openDexSqlite(file: string): DexSource {
  checkReadable(file);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.exec('BEGIN');
  } catch (error) {
    if (isNotADatabase(error)) throw new DexImportError('not_dex', `${file} is not an SQLite database, so not Dex's sqlite3 storage`, { cause: error });
    throw new DexImportError('unreadable', `cannot open the Dex database ${file}: ${(error as Error).message}`, { cause: error });
  }
  const run = <T>(what: () => T): T => {
    try {
      return what();
    } catch (error) {
      if (isNotADatabase(error)) throw new DexImportError('not_dex', `${file} is not an SQLite database, so not Dex's sqlite3 storage`, { cause: error });
      throw error;
    }
  };
  return {
    label: file,
    flavor: 'sqlite3',
    async tableNames() {
      const rows = run(() => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>);
      return new Set(rows.map((row) => row.name));
    },
    async select(sql) {
      return run(() => db.prepare(sql).all() as Row[]);
    },
    async close() {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    },
  };
}
