// `idgate import dex` refusing what it cannot read, each with its message and exit code: a file that
// is missing or not a database, a database that is not Dex's (idgate's own, Dex's ent storage, an
// empty schema), Dex schemas too old or too new, rows that do not decode, PostgreSQL unreachable, and
// wrong arguments. None of them writes anything.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { openStorage } from '../../src/storage/open.js';
import { freePort } from '../helpers/free-port.js';
import { adminClient, dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';
import { createDexSqlite, encoded } from './dex-database.js';

let dir: string;
let configFile: string;
let idgateFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idgate-dex-errors-'));
  idgateFile = path.join(dir, 'idgate.db');
  configFile = path.join(dir, 'idgate.yaml');
  await writeFile(configFile, `issuer: http://127.0.0.1:5556/dex\nstorage: {type: sqlite3, config: {file: ${idgateFile}}}\nweb: {http: 127.0.0.1:5556}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const code = await main(['import', 'dex', ...args], { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s) });
  return { code, ...out };
}

const fromFile = (file: string) => ['--config', configFile, '--from', `sqlite3:${file}`];

describe('idgate import dex: sources it cannot read', () => {
  it('exits 4 when the file cannot be read', async () => {
    const result = await run(...fromFile(path.join(dir, 'missing.db')));
    expect(result).toMatchObject({ code: 4, stdout: '' });
    expect(result.stderr).toMatch(/cannot read the Dex database .*missing\.db: no such file/);
  });

  it('exits 5 for a file that is not an SQLite database', async () => {
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'these are not the tables you are looking for\n'.repeat(200));
    const result = await run(...fromFile(file));
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("is not an SQLite database, so not Dex's sqlite3 storage");
  });

  it("exits 5 for an SQLite database that is not Dex's (idgate's own storage), naming the missing tables", async () => {
    const storage = await openStorage({ type: 'sqlite3', config: { file: path.join(dir, 'other-idgate.db') } });
    await storage.close();
    const result = await run(...fromFile(path.join(dir, 'other-idgate.db')));
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('is not a Dex database: table(s) migrations, client, password, refresh_token, offline_session, connector, keys missing');
  });

  it("names Dex's ent storage, which it does not read", async () => {
    const file = path.join(dir, 'ent.db');
    const db = new Database(file);
    for (const table of ['oauth2clients', 'refresh_tokens', 'offline_sessions', 'passwords', 'keys']) db.exec(`CREATE TABLE ${table} (id TEXT)`);
    db.close();
    const result = await run(...fromFile(file));
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("Dex's ent storage (DEX_ENT_ENABLED)");
  });

  it('exits 5 when Dex never finished migrating (an empty migrations table)', async () => {
    const file = path.join(dir, 'unmigrated.db');
    const dex = await createDexSqlite(file);
    await dex.exec('delete from migrations;');
    await dex.close();
    const result = await run(...fromFile(file));
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('its migrations table is empty');
  });

  it('exits 6 for a schema newer than it knows, and for one older than Dex v2.29.0', async () => {
    const newer = path.join(dir, 'newer.db');
    const dex = await createDexSqlite(newer, 23);
    await dex.exec('insert into migrations (num, at) values ($1, now());', [24]);
    await dex.close();
    const tooNew = await run(...fromFile(newer));
    expect(tooNew.code).toBe(6);
    expect(tooNew.stderr).toContain('Dex schema version 24 (a Dex newer than this idgate knows) is not supported; supported: 9 to 23');

    const older = path.join(dir, 'older.db');
    await (await createDexSqlite(older, 8)).close();
    const tooOld = await run(...fromFile(older));
    expect(tooOld.code).toBe(6);
    expect(tooOld.stderr).toContain('Dex schema version 8 (older than Dex v2.29.0) is not supported');
    expect(tooOld.stderr).toContain('start a newer Dex (v2.29.0 or later) on it once');
  });

  it('exits 5 for a row that does not decode as Dex writes it, naming table, row and column', async () => {
    const file = path.join(dir, 'corrupt.db');
    const dex = await createDexSqlite(file);
    await dex.exec('insert into client (id, secret, redirect_uris, trusted_peers, public, name, logo_url) values ($1, $2, $3, $4, $5, $6, $7);', [
      'broken', 's', Buffer.from('[not json'), encoded(null), false, 'Broken', '',
    ]);
    await dex.close();
    const result = await run(...fromFile(file));
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('client broken: column redirect_uris is not JSON as Dex writes it');
  });

  it('exits 4 when PostgreSQL is unreachable, without showing the password', async () => {
    const port = await freePort();
    const result = await run('--config', configFile, '--from', `postgres://dex:hunter2@127.0.0.1:${port}/dex`);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`cannot connect to PostgreSQL at postgres://dex@127.0.0.1:${port}/dex (schema public)`);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exits 5 for a PostgreSQL schema without Dex tables', async () => {
    await requirePostgres();
    const schema = randomSchemaName();
    const client = await adminClient();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.end();
    try {
      const result = await run('--config', configFile, '--from', TEST_POSTGRES_URL, '--schema', schema);
      expect(result.code).toBe(5);
      expect(result.stderr).toContain(`(schema ${schema}) is not a Dex database: table(s) migrations, client`);
    } finally {
      await dropSchema(schema);
    }
  });
});

describe('idgate import dex: arguments', () => {
  it('exits 2 with the usage for a missing or unknown --from, and --schema on a file', async () => {
    for (const args of [['--config', configFile], ['--config', configFile, '--from', 'mysql://dex@db/dex'], [...fromFile('x.db'), '--schema', 'dex']]) {
      const result = await run(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Usage:');
    }
  });

  it('refuses memory storage, which lives inside the serving process', async () => {
    const memoryConfig = path.join(dir, 'memory.yaml');
    await writeFile(memoryConfig, 'issuer: http://127.0.0.1:5556/dex\nstorage: {type: memory}\nweb: {http: 127.0.0.1:5556}\n');
    const file = path.join(dir, 'for-memory.db');
    await (await createDexSqlite(file)).close();
    const result = await run('--config', memoryConfig, '--from', `sqlite3:${file}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('storage type memory lives inside the serving process');
  });

  it('prints its usage on --help', async () => {
    const result = await run('--help');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('idgate import dex --config FILE --from SOURCE');
  });
});
