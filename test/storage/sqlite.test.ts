// The SQLite backend passes the storage conformance suite, keeps its data across reopening, and migrates once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage } from '../../src/storage/records.js';
import { createSqliteBackend } from '../../src/storage/sqlite.js';
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../src/storage/sqlite-migrations.js';
import { runStorageConformance } from './conformance.js';
import { client, refreshToken } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'idgate-sqlite-'));
let files = 0;
const freshFile = () => join(dir, `nested/dir/test-${++files}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStorageConformance('sqlite3', async (now) => ({ storage: createStorage(createSqliteBackend({ file: freshFile() }), { now }) }));

describe('SQLite backend', () => {
  it('creates the parent directory and runs in WAL mode', async () => {
    const file = freshFile();
    const storage = createStorage(createSqliteBackend({ file }));
    await storage.clients.create(client('app'));
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await storage.close();
  });

  it('keeps every record across close and reopen', async () => {
    const file = freshFile();
    const first = createStorage(createSqliteBackend({ file }));
    await first.clients.create(client('app'));
    await first.refreshTokens.create(refreshToken('family', Date.now()));
    await first.close();

    const second = createStorage(createSqliteBackend({ file }));
    expect(await second.clients.get('app')).toEqual(client('app'));
    expect((await second.refreshTokens.list({ index: 'user-1' })).map((t) => t.id)).toEqual(['family']);
    await second.close();
  });

  it('applies each migration exactly once, and reopening is a no-op', async () => {
    const file = freshFile();
    await createSqliteBackend({ file }).close();
    await createSqliteBackend({ file }).close();
    const db = new Database(file);
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(SQLITE_MIGRATIONS.map(({ version, name }) => ({ version, name })));
    expect(migrateSqlite(db)).toEqual([]);
    db.close();
  });

  it('rolls back a failing migration, leaving it unrecorded', () => {
    const db = new Database(':memory:');
    const broken = [...SQLITE_MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE half (x); NOT SQL' }];
    expect(() => migrateSqlite(db, broken)).toThrow();
    expect(db.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    db.close();
  });

  it('never loses an update when two connections to one file write concurrently', async () => {
    const file = freshFile();
    const a = createStorage(createSqliteBackend({ file }));
    const b = createStorage(createSqliteBackend({ file }));
    const start = Date.now();
    await a.refreshTokens.create(refreshToken('family', start));
    const increment = (s: typeof a) => s.refreshTokens.update('family', (t) => ({ ...t, lastUsedAt: t.lastUsedAt + 1 }));
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? a : b)));
    expect((await a.refreshTokens.get('family'))?.lastUsedAt).toBe(start + 20);
    await a.close();
    await b.close();
  });

  it('reports a file that is not a database as unavailable', () => {
    const file = join(dir, 'not-a-db.txt');
    writeFileSync(file, 'this is not a SQLite database, and long enough to have a header '.repeat(4));
    expect(() => createSqliteBackend({ file })).toThrow(expect.objectContaining({ code: 'unavailable' }));
  });
});
