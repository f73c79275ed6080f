/**
 * Maps the `storage: {type: postgres}` config (Dex's option names) to a node-postgres Pool config.
 * Pure apart from reading the TLS files, which goes through an injectable `readFile`, so every
 * mapping rule is unit-tested without a server.
 */
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { PoolConfig } from 'pg';
import { ConfigError } from '../config/errors.js';
import type { ParsedConfig } from '../config/schema.js';

export type PostgresStorageConfig = Extract<ParsedConfig['storage'], { type: 'postgres' }>['config'];
export type SslMode = NonNullable<PostgresStorageConfig['ssl']>['mode'];

/** Dex's database/sql defaults (storage/sql/config.go): 5 open and 5 idle connections. */
export const DEFAULT_MAX_OPEN_CONNS = 5;
export const DEFAULT_MAX_IDLE_CONNS = 5;
/** Dex leaves connect_timeout unset (wait forever); we bound it so readiness never hangs. */
export const DEFAULT_CONNECTION_TIMEOUT_SECONDS = 10;
/** How long a connection may sit idle (within maxIdleConns) before it is closed. */
export const IDLE_TIMEOUT_MS = 30_000;
export const DEFAULT_SCHEMA = 'public';

export interface PostgresPoolSettings {
  pool: PoolConfig;
  /** Connections kept idle at most; extra ones are closed when released (see postgres.ts). */
  maxIdleConns: number;
  schema: string;
}

type ReadFile = (path: string) => string;

const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** `"name"` with embedded quotes doubled: safe to splice into SQL (and into search_path). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Builds the Pool config: the separate keys override the connection string's parts. */
export function postgresPoolSettings(
  config: PostgresStorageConfig,
  readFile: ReadFile = (path) => readFileSync(path, 'utf8'),
): PostgresPoolSettings {
  const fromString = config.connectionString ? parseConnectionString(config.connectionString) : {};
  const sslFromString = fromString.ssl ?? {};
  const ssl = { ...sslFromString, ...definedOnly(config.ssl ?? {}) };
  const schema = config.schema ?? DEFAULT_SCHEMA;
  const startupOptions = [fromString.options, `-c search_path=${escapeStartupOption(quoteIdentifier(schema))}`]
    .filter(Boolean)
    .join(' ');
  const pool: PoolConfig = {
    host: config.host ?? fromString.host,
    port: config.port ?? fromString.port,
    database: config.database ?? fromString.database,
    user: config.user ?? fromString.user,
    password: config.password ?? fromString.password,
    ssl: sslOptions(ssl.mode ?? 'disable', ssl, readFile),
    options: startupOptions,
    application_name: fromString.applicationName ?? 'idgate',
    connectionTimeoutMillis: (config.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT_SECONDS) * 1000,
    max: config.maxOpenConns ?? DEFAULT_MAX_OPEN_CONNS,
    maxLifetimeSeconds: config.connMaxLifetime ?? 0,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    // TCP keepalive after 10 s idle, so a connection to a vanished server is noticed, not waited on.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  return { pool, maxIdleConns: config.maxIdleConns ?? DEFAULT_MAX_IDLE_CONNS, schema };
}

interface SslSettings {
  mode?: SslMode;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
}

/**
 * libpq's sslmode semantics, as far as node-postgres can follow them. pg cannot fall back between
 * plaintext and TLS, so `allow` connects in plaintext and `prefer` insists on TLS (like `require`).
 * As in libpq, `require` with a CA file verifies the chain (verify-ca).
 */
export function sslOptions(mode: SslMode, ssl: SslSettings, readFile: ReadFile): false | ConnectionOptions {
  if (mode === 'disable' || mode === 'allow') return false;
  const options: ConnectionOptions = {};
  if (ssl.caFile) options.ca = readTlsFile(readFile, 'caFile', ssl.caFile);
  if (ssl.certFile) options.cert = readTlsFile(readFile, 'certFile', ssl.certFile);
  if (ssl.keyFile) options.key = readTlsFile(readFile, 'keyFile', ssl.keyFile);
  const verifyChain = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && Boolean(ssl.caFile));
  options.rejectUnauthorized = verifyChain;
  if (!verifyChain) return options;
  if (mode === 'verify-full' && ssl.serverName) {
    // pg sets SNI to the host after our options, so the name check is where serverName is honoured.
    const serverName = ssl.serverName;
    options.checkServerIdentity = (_host, cert) => checkServerIdentity(serverName, cert);
  } else if (mode !== 'verify-full') {
    options.checkServerIdentity = () => undefined; // verify-ca: the chain is checked, not the name
  }
  return options;
}

function readTlsFile(readFile: ReadFile, key: string, path: string): string {
  try {
    return readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError('storage', [{ path: `storage.config.ssl.${key}`, message: `cannot read ${path}: ${reason}` }]);
  }
}

interface ConnectionStringParts {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  options?: string;
  applicationName?: string;
  ssl?: SslSettings;
}

/** A `postgres://` or `postgresql://` URI, with libpq's query parameters for host, port and TLS. */
export function parseConnectionString(text: string): ConnectionStringParts {
  const invalid = (message: string) =>
    new ConfigError('storage', [{ path: 'storage.config.connectionString', message }]);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not a valid URI (use postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw invalid('not a postgres:// URI');
  const param = (name: string) => url.searchParams.get(name) ?? undefined;
  const portText = param('port') ?? (url.port || undefined);
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw invalid(`bad port "${portText}"`);
  const mode = param('sslmode');
  if (mode !== undefined && !SSL_MODES.includes(mode as SslMode)) throw invalid(`unknown sslmode "${mode}"`);
  const hostname = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return definedOnly({
    host: param('host') ?? (hostname || undefined),
    port,
    database: param('dbname') ?? (database || undefined),
    user: param('user') ?? (url.username ? decodeURIComponent(url.username) : undefined),
    password: param('password') ?? (url.password ? decodeURIComponent(url.password) : undefined),
    options: param('options'),
    applicationName: param('application_name'),
    ssl: definedOnly({
      mode: mode as SslMode | undefined,
      caFile: param('sslrootcert'),
      certFile: param('sslcert'),
      keyFile: param('sslkey'),
    }),
  });
}

/** In startup `options`, backslash escapes spaces and backslashes (libpq's rule). */
function escapeStartupOption(value: string): string {
  return value.replace(/[\\ ]/g, (c) => `\\${c}`);
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
