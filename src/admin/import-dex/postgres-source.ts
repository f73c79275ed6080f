/**
 * Dex's `postgres` storage: one connection (libpq URL parameters as in idgate's own
 * storage.config.connectionString), the Dex tables looked up in one schema (`public` unless --schema
 * says otherwise), everything read in one REPEATABLE READ READ ONLY transaction.
 */
import pg from 'pg';
import { ConfigError } from '../../config/errors.js';
import { postgresPoolSettings } from '../../storage/postgres-config.js';
import { isConnectionError } from '../../storage/postgres-errors.js';
import { DexImportError, type DexSource, type Row } from './source.js';

/** The URL without its password, and the schema: what messages may show. */
function labelOf(url: string, schema: string): string {
  const shown = new URL(url);
  if (shown.password) shown.password = '';
  shown.searchParams.delete('password');
  return `${shown.toString()} (schema ${schema})`;
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${message || 'connection failed'} (${code})` : message;
}

export async function openDexPostgres(url: string, schema = 'public'): Promise<DexSource> {
  let settings: ReturnType<typeof postgresPoolSettings>;
  try {
    settings = postgresPoolSettings({ connectionString: url, schema });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new DexImportError('usage', `--from: ${error.problems.map((problem) => problem.message).join('; ')}`, { cause: error });
  }
  const label = labelOf(url, schema);
  const client = new pg.Client({ ...settings.pool, application_name: 'idgate-import-dex' });
  client.on('error', () => undefined); // a dying connection also fails the query in flight, which reports it
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DexImportError('unreachable', `cannot connect to PostgreSQL at ${label}: ${reasonOf(error)}`, { cause: error });
  }
  const run = async <T extends Row>(sql: string, values: unknown[] = []): Promise<T[]> => {
    try {
      return (await client.query<T>(sql, values)).rows;
    } catch (error) {
      if (isConnectionError(error)) throw new DexImportError('unreachable', `lost PostgreSQL at ${label}: ${reasonOf(error)}`, { cause: error });
      throw error;
    }
  };
  return {
    label,
    flavor: 'postgres',
    async tableNames() {
      const rows = await run<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
        [schema],
      );
      return new Set(rows.map((row) => row.table_name));
    },
    select: (sql) => run(sql),
    async close() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
