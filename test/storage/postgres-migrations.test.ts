// Schema migrations: applied once, in order, atomically, even when several replicas start together.
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import { MIGRATIONS, migrate, type Migration } from '../../src/storage/postgres-migrations.js';
import { expectStorageError } from './conformance.js';
import { adminClient, dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL, testConfig } from './postgres-helpers.js';

beforeAll(requirePostgres);

let schema: string;
const clients: pg.Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.end()));
  await dropSchema(schema);
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  clients.push(client);
  return client;
}

async function inspect<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = await adminClient();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Not idempotent on purpose: run twice, the CREATE fails and the row count shows it. */
const counting: Migration[] = [
  { version: 1, name: 'counter', statements: ['CREATE TABLE applied (n INTEGER)', 'INSERT INTO applied VALUES (1)'] },
  { version: 2, name: 'slow', statements: ['SELECT pg_sleep(0.2)', 'INSERT INTO applied VALUES (2)'] },
];

describe('postgres migrations', () => {
  it('creates the schema when missing and records every migration in schema_migrations', async () => {
    schema = randomSchemaName();
    const backend = await createPostgresBackend(testConfig(schema));
    await backend.close();
    const rows = await inspect<{ version: number; name: string }>(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
    expect(rows).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
    const tables = await inspect<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = '${schema}' ORDER BY 1`);
    expect(tables.map((t) => t.tablename)).toEqual(['records', 'schema_migrations']);
  });

  it('applies each migration once when two openers start at the same moment', async () => {
    schema = randomSchemaName();
    const [a, b] = [await connect(), await connect()];
    const applied = await Promise.all([migrate(a, schema, counting), migrate(b, schema, counting)]);
    expect(applied.flat().sort()).toEqual([1, 2]); // one opener did all the work, the other found it done
    expect(applied.some((versions) => versions.length === 0)).toBe(true);
    expect(await inspect(`SELECT n FROM "${schema}".applied ORDER BY n`)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('opens two backends on one new schema concurrently without either failing', async () => {
    schema = randomSchemaName();
    const backends = await Promise.all([createPostgresBackend(testConfig(schema)), createPostgresBackend(testConfig(schema))]);
    await Promise.all(backends.map((backend) => backend.ping()));
    await Promise.all(backends.map((backend) => backend.close()));
    expect(await inspect(`SELECT count(*)::int AS n FROM "${schema}".schema_migrations`)).toEqual([{ n: MIGRATIONS.length }]);
  });

  it('applies only the migrations added since the last start, in version order', async () => {
    schema = randomSchemaName();
    const client = await connect();
    expect(await migrate(client, schema, counting.slice(0, 1))).toEqual([1]);
    const third: Migration = { version: 3, name: 'third', statements: ['INSERT INTO applied VALUES (3)'] };
    expect(await migrate(client, schema, [third, ...counting])).toEqual([2, 3]);
    expect(await inspect(`SELECT n FROM "${schema}".applied`)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('refuses to open, as unavailable naming the SQL error, when the role may not create the schema', async () => {
    schema = randomSchemaName();
    const role = `${schema}_reader`;
    const admin = await adminClient();
    try {
      await admin.query(`CREATE ROLE "${role}" LOGIN`); // by default, PUBLIC may not CREATE in a database
      const opening = createPostgresBackend(testConfig(schema, { user: role }));
      await expectStorageError(opening, 'unavailable');
      await expect(opening).rejects.toThrow(/^PostgreSQL is unavailable \(migrating\): permission denied .*\(42501\)$/);
    } finally {
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      await admin.end();
    }
  });

  it('rolls a failing migration back completely, recording nothing, and reports the SQL error', async () => {
    schema = randomSchemaName();
    const client = await connect();
    const broken: Migration[] = [counting[0]!, { version: 2, name: 'broken', statements: ['INSERT INTO missing_table VALUES (1)'] }];
    await expect(migrate(client, schema, broken)).rejects.toMatchObject({ code: '42P01' }); // undefined_table
    expect(await inspect(`SELECT nspname FROM pg_namespace WHERE nspname = '${schema}'`)).toEqual([]);
    expect(await migrate(client, schema, counting)).toEqual([1, 2]); // and the client is usable again
  });
});
