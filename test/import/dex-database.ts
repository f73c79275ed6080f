/**
 * Builds a Dex database for the import tests the way Dex builds and fills one: the DDL of Dex's own
 * migrations (test/fixtures/dex-sql/migrations.ts), applied in order for the flavor and counted in the
 * `migrations` table as Dex's migrate.go does; rows written with the columns Dex's storage/sql/crud.go
 * writes at that schema, in Dex's encodings: JSON in bytea/blob columns (Go's json.Marshal: `null` for
 * a nil slice, struct field names as keys), booleans, and times (timestamptz on PostgreSQL; on SQLite
 * the UTC text mattn/go-sqlite3 writes, with Go's nanoseconds). SQLite statements get the type and bind
 * translations of Dex's flavorSQLite3.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { DEX_MIGRATIONS, DEX_MIGRATIONS_TABLE, type DexFlavor } from '../fixtures/dex-sql/migrations.js';
import { adminClient } from '../storage/postgres-helpers.js';

export type TestFlavor = Exclude<DexFlavor, 'mysql'>;

/** Dex v2.45.1's schema on SQLite and PostgreSQL. */
export const DEX_V2_45_SCHEMA = 13;

export interface DexDatabaseHandle {
  flavor: TestFlavor;
  version: number;
  /** A statement in Dex's (PostgreSQL) syntax with $n binds; translated for SQLite. */
  exec(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** What Dex's flavorSQLite3 rewrites in every statement. */
function toSqliteStatement(sql: string): string {
  return sql
    .replace(/\$\d+/g, '?')
    .replace(/\btrue\b/g, '1')
    .replace(/\bfalse\b/g, '0')
    .replace(/\bboolean\b/g, 'integer')
    .replace(/\bbytea\b/g, 'blob')
    .replace(/\btimestamptz\b/g, 'timestamp')
    .replace(/\bnow\(\)/g, "date('now')");
}

/** A Go time.Time as go-sqlite3 stores it: `2006-01-02 15:04:05.999999999-07:00`, here in UTC (Dex's translateArgs). */
export function goSqliteTime(date: Date): string {
  const iso = date.toISOString(); // 2026-03-01T10:00:00.456Z
  // Go's clock has nanoseconds: keep the milliseconds and add some, trailing zeros trimmed as Go does.
  const fraction = `${iso.slice(20, 23)}000123`.replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}+00:00`;
}

/** go-sqlite3's binds: bool as integer, time.Time as text; []byte as blob. */
function toSqliteParam(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return goSqliteTime(value);
  return value ?? null;
}

/** Go's json.Marshal into a bytes column (Dex's `encoder`). */
export function encoded(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? null), 'utf8');
}

function migrationsFor(flavor: TestFlavor, version: number) {
  const list = DEX_MIGRATIONS.filter((migration) => migration.flavor === undefined || migration.flavor === flavor);
  if (version > list.length) throw new Error(`Dex has ${list.length} ${flavor} migrations, not ${version}`);
  return list.slice(0, version);
}

async function migrate(db: DexDatabaseHandle): Promise<void> {
  await db.exec(DEX_MIGRATIONS_TABLE);
  // One transaction per migration, as Dex's ExecTx.
  for (const [index, migration] of migrationsFor(db.flavor, db.version).entries()) {
    await db.exec('BEGIN');
    for (const statement of migration.stmts) await db.exec(statement);
    await db.exec('insert into migrations (num, at) values ($1, now());', [index + 1]);
    await db.exec('COMMIT');
  }
}

export async function createDexSqlite(file: string, version = DEX_V2_45_SCHEMA): Promise<DexDatabaseHandle> {
  const sqlite = new Database(file);
  const db: DexDatabaseHandle = {
    flavor: 'sqlite3',
    version,
    async exec(sql, params = []) {
      const statement = toSqliteStatement(sql);
      if (params.length === 0) sqlite.exec(statement);
      else sqlite.prepare(statement).run(...params.map(toSqliteParam));
    },
    async close() {
      sqlite.close();
    },
  };
  await migrate(db);
  return db;
}

export async function createDexPostgres(schema: string, version = DEX_V2_45_SCHEMA): Promise<DexDatabaseHandle> {
  const client: pg.Client = await adminClient();
  await client.query(`CREATE SCHEMA "${schema}"`);
  await client.query(`SET search_path TO "${schema}"`);
  const db: DexDatabaseHandle = {
    flavor: 'postgres',
    version,
    async exec(sql, params = []) {
      await client.query(sql, params.map((value) => value ?? null));
    },
    async close() {
      await client.end();
    },
  };
  await migrate(db);
  return db;
}

export interface DexClientRow {
  id: string;
  secret: string;
  redirectURIs: string[] | null;
  trustedPeers: string[] | null;
  public: boolean;
  name: string;
  logoURL?: string;
  allowedConnectors?: string[] | null;
  mfaChain?: string[] | null;
}

/** Dex's CreateClient: the columns its schema has (allowed_connectors from 15, the master fields later). */
export async function insertClient(db: DexDatabaseHandle, client: DexClientRow): Promise<void> {
  const columns: Array<[string, unknown]> = [
    ['id', client.id], ['secret', client.secret], ['redirect_uris', encoded(client.redirectURIs)],
    ['trusted_peers', encoded(client.trustedPeers)], ['public', client.public], ['name', client.name], ['logo_url', client.logoURL ?? ''],
  ];
  if (db.version >= 15) columns.push(['allowed_connectors', encoded(client.allowedConnectors ?? null)]);
  if (db.version >= 18) columns.push(['mfa_chain', encoded(client.mfaChain ?? null)]);
  if (db.version >= 19) columns.push(['post_logout_redirect_uris', encoded(null)]);
  if (db.version >= 21) columns.push(['sso_shared_with', encoded(null)]);
  if (db.version >= 22) columns.push(['backchannel_logout_uri', ''], ['refresh_token_lifetime', '']);
  await insert(db, 'client', columns);
}

export interface DexPasswordRow {
  email: string;
  hash: string;
  username: string;
  userId: string;
  name?: string;
  preferredUsername?: string;
  groups?: string[] | null;
  emailVerified?: boolean | null;
}

/** Dex's CreatePassword (email lowercased, bcrypt hash as bytes). */
export async function insertPassword(db: DexDatabaseHandle, password: DexPasswordRow): Promise<void> {
  const columns: Array<[string, unknown]> = [
    ['email', password.email.toLowerCase()], ['hash', Buffer.from(password.hash, 'utf8')], ['username', password.username], ['user_id', password.userId],
  ];
  if (db.version >= 12) columns.push(['preferred_username', password.preferredUsername ?? ''], ['groups', encoded(password.groups ?? null)]);
  if (db.version >= 13) columns.push(['name', password.name ?? ''], ['email_verified', password.emailVerified ?? null]);
  await insert(db, 'password', columns);
}

export interface DexRefreshRow {
  id: string;
  clientId: string;
  scopes: string[];
  nonce: string;
  claims: { userId: string; username: string; preferredUsername: string; email: string; emailVerified: boolean; groups: string[] | null };
  connectorId: string;
  connectorData: Buffer | null;
  token: string;
  obsoleteToken: string;
  createdAt: Date;
  lastUsed: Date;
}

/** Dex's CreateRefresh. */
export async function insertRefresh(db: DexDatabaseHandle, token: DexRefreshRow): Promise<void> {
  await insert(db, 'refresh_token', [
    ['id', token.id], ['client_id', token.clientId], ['scopes', encoded(token.scopes)], ['nonce', token.nonce],
    ['claims_user_id', token.claims.userId], ['claims_username', token.claims.username],
    ['claims_preferred_username', token.claims.preferredUsername], ['claims_email', token.claims.email],
    ['claims_email_verified', token.claims.emailVerified], ['claims_groups', encoded(token.claims.groups)],
    ['connector_id', token.connectorId], ['connector_data', token.connectorData],
    ['token', token.token], ['obsolete_token', token.obsoleteToken], ['created_at', token.createdAt], ['last_used', token.lastUsed],
  ]);
}

/** Dex's CreateOfflineSessions: `refresh` is map[clientID]*RefreshTokenRef, marshalled with Go's field names. */
export async function insertOfflineSession(
  db: DexDatabaseHandle,
  session: { userId: string; connId: string; refresh: Record<string, { id: string; createdAt: Date; lastUsed: Date }>; connectorData: Buffer | null },
): Promise<void> {
  const refs = Object.fromEntries(Object.entries(session.refresh).map(([clientId, ref]) => [
    clientId, { ID: ref.id, ClientID: clientId, CreatedAt: ref.createdAt.toISOString(), LastUsed: ref.lastUsed.toISOString() },
  ]));
  await insert(db, 'offline_session', [
    ['user_id', session.userId], ['conn_id', session.connId], ['refresh', encoded(refs)], ['connector_data', session.connectorData],
  ]);
}

/** Dex's CreateConnector (config as the JSON bytes the API was given). */
export async function insertConnector(
  db: DexDatabaseHandle,
  connector: { id: string; type: string; name: string; config: unknown; grantTypes?: string[] },
): Promise<void> {
  const columns: Array<[string, unknown]> = [
    ['id', connector.id], ['type', connector.type], ['name', connector.name], ['resource_version', '1'], ['config', encoded(connector.config)],
  ];
  if (db.version >= 14) columns.push(['grant_types', encoded(connector.grantTypes ?? null)]);
  await insert(db, 'connector', columns);
}

/** Dex's UpdateKeys on an empty table: the one row `keys`, JWKs as go-jose marshals them. */
export async function insertKeys(
  db: DexDatabaseHandle,
  keys: { signingKey: object; signingKeyPub: object; verificationKeys: Array<{ publicKey: object; expiry: string }>; nextRotation: Date },
): Promise<void> {
  await insert(db, 'keys', [
    ['id', 'keys'], ['verification_keys', encoded(keys.verificationKeys)], ['signing_key', encoded(keys.signingKey)],
    ['signing_key_pub', encoded(keys.signingKeyPub)], ['next_rotation', keys.nextRotation],
  ]);
}

async function insert(db: DexDatabaseHandle, table: string, columns: Array<[string, unknown]>): Promise<void> {
  const names = columns.map(([name]) => name).join(', ');
  const binds = columns.map((_, index) => `$${index + 1}`).join(', ');
  await db.exec(`insert into ${table} (${names}) values (${binds});`, columns.map(([, value]) => value));
}
