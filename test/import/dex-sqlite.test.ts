// `idgate import dex --from sqlite3:PATH`: Dex's sqlite3 storage file, built with Dex's schema, moved
// into idgate's SQLite storage (see dex-import.ts for the specification).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStorage } from '../../src/storage/open.js';
import { createDexSqlite } from './dex-database.js';
import { describeDexImport } from './dex-import.js';

describeDexImport('sqlite3', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idgate-dex-sqlite-'));
  const dexFile = path.join(dir, 'dex.db');
  const idgateFile = path.join(dir, 'idgate.db');
  return {
    dex: await createDexSqlite(dexFile),
    fromArgs: ['--from', `sqlite3:${dexFile}`],
    storageYaml: `storage:\n  type: sqlite3\n  config:\n    file: ${idgateFile}`,
    openStorage: () => openStorage({ type: 'sqlite3', config: { file: idgateFile } }),
    async rawRecords() {
      if (!existsSync(idgateFile)) return [];
      const db = new Database(idgateFile, { readonly: true });
      try {
        return (db.prepare('SELECT data FROM records').all() as Array<{ data: string }>).map((row) => row.data);
      } finally {
        db.close();
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
