/**
 * What the PostgreSQL tests share: the test database's address, a loud failure when it is not running
 * (these tests never skip), and throw-away schemas so every run starts empty and leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresStorageConfig } from '../../src/storage/postgres-config.js';

/** Override with IDGATE_TEST_POSTGRES_URL; the default is the local trust-auth server. */
export const TEST_POSTGRES_URL = process.env.IDGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const HOW_TO_START = `PostgreSQL is not reachable at ${TEST_POSTGRES_URL}, and the PostgreSQL storage tests need it.
Start it (e.g. \`sudo service postgresql start\`, or
\`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16\`),
or point IDGATE_TEST_POSTGRES_URL at a database where this user may create schemas.`;

/** A connection for setup and inspection, outside any backend under test. */
export async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a test may terminate every backend, this one included
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`${HOW_TO_START}\n(${(error as Error).message || String(error)})`, { cause: error });
  }
  return client;
}

/** Fails the suite with instructions when the server is down. */
export async function requirePostgres(): Promise<void> {
  const client = await adminClient();
  await client.end();
}

/** A schema name nobody else uses: `idgate_test_<random>`. */
export function randomSchemaName(): string {
  return `idgate_test_${randomBytes(6).toString('hex')}`;
}

/** The backend config for a test schema; `tagged` sets application_name so the pool can be found and killed. */
export function testConfig(schema: string, overrides: Partial<PostgresStorageConfig> = {}, tagged = false): PostgresStorageConfig {
  const url = new URL(TEST_POSTGRES_URL);
  if (tagged) url.searchParams.set('application_name', applicationNameFor(schema));
  return { connectionString: url.toString(), schema, ...overrides };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = await adminClient();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Kills every server process tagged for `schema` (see testConfig) and waits until they are gone,
 * as an operator or a failover would. Returns how many were terminated.
 */
export async function terminateSchemaConnections(schema: string): Promise<number> {
  const client = await adminClient();
  try {
    const result = await client.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid, 5000) AS terminated FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND application_name = $1`,
      [applicationNameFor(schema)],
    );
    return result.rows.filter((row) => row.terminated).length;
  } finally {
    await client.end();
  }
}

/** Tests that kill connections tag their pool with this application_name to find its processes. */
export function applicationNameFor(schema: string): string {
  return `idgate-test-${schema}`.slice(0, 63);
}
