/**
 * Where `idgate import dex` reads from: a Dex SQL database (Dex's `sqlite3` file or a `postgres`
 * schema), seen through the few read-only operations the reader needs. Also the importer's typed
 * errors, each with the exit code the CLI documents.
 */

/** One row as the database driver returns it (strings, numbers, booleans, Buffers, Dates, null). */
export type Row = Record<string, unknown>;

export interface DexSource {
  /** The source for messages: the file, or the URL without its password and the schema. */
  readonly label: string;
  readonly flavor: 'sqlite3' | 'postgres';
  /** Names of the tables Dex's storage would have created (in the file, or in the schema). */
  tableNames(): Promise<Set<string>>;
  /** Runs one read-only statement without parameters, in the snapshot opened with the source. */
  select(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}

export type DexImportErrorCode = 'usage' | 'unreadable' | 'unreachable' | 'not_dex' | 'unsupported_schema' | 'conflicts';

/** The exit code of each failure (docs/migrate-from-dex.md lists them). */
export const EXIT_CODES: Record<DexImportErrorCode, number> = {
  usage: 2,
  conflicts: 3,
  unreadable: 4,
  unreachable: 4,
  not_dex: 5,
  unsupported_schema: 6,
};

export class DexImportError extends Error {
  constructor(
    readonly code: DexImportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DexImportError';
  }
}

export type DexLocation = { kind: 'sqlite3'; file: string } | { kind: 'postgres'; url: string };

/** `--from`: `sqlite3:PATH` (Dex's storage type name) or a `postgres://` / `postgresql://` URL. */
export function parseFrom(from: string): DexLocation | undefined {
  if (from.startsWith('sqlite3:') && from.length > 'sqlite3:'.length) return { kind: 'sqlite3', file: from.slice('sqlite3:'.length) };
  if (/^postgres(ql)?:\/\//.test(from)) return { kind: 'postgres', url: from };
  return undefined;
}

/** Opens the database `location` names; throws DexImportError (unreadable, unreachable). */
export async function openDexSource(location: DexLocation, schema: string | undefined): Promise<DexSource> {
  if (location.kind === 'sqlite3') {
    const { openDexSqlite } = await import('./sqlite-source.js');
    return openDexSqlite(location.file);
  }
  const { openDexPostgres } = await import('./postgres-source.js');
  return openDexPostgres(location.url, schema);
}
