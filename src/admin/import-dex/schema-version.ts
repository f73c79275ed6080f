/**
 * Which Dex SQL schemas the importer reads. Dex's storage/sql/migrate.go applies its migrations in
 * order and records each in the `migrations` table; the migrations meant for other flavors (MySQL, and
 * for SQLite the PostgreSQL ones and back) are skipped without a number, so on SQLite and PostgreSQL
 * the same number means the same tables. The reader selects by number only the columns that exist.
 */
import { DexImportError, type DexSource } from './source.js';

/** The tables the importer reads; all of them exist from migration 4 on. */
export const DEX_TABLES = ['migrations', 'client', 'password', 'refresh_token', 'offline_session', 'connector', 'keys'] as const;

/**
 * 9 added refresh_token.obsolete_token (Dex v2.29.0), the last column the refresh flow needs. 23 is
 * the newest schema known here: Dex master at ab64ed77 (the session table rebuilt).
 */
export const OLDEST_SCHEMA = 9;
export const NEWEST_SCHEMA = 23;

/** Columns that arrived after the oldest schema read, by the migration that added them. */
export const COLUMN_SINCE = {
  /** password.preferred_username and password.groups (Dex v2.45.0). */
  passwordGroups: 12,
  /** password.name and password.email_verified (Dex v2.45.0). */
  passwordName: 13,
  /** connector.grant_types (Dex master). */
  connectorGrantTypes: 14,
  /** client.allowed_connectors (Dex master). */
  clientAllowedConnectors: 15,
  /** client.mfa_chain (Dex master). */
  clientMfaChain: 18,
  /** client.post_logout_redirect_uris (Dex master). */
  clientPostLogoutRedirectURIs: 19,
  /** client.sso_shared_with (Dex master). */
  clientSsoSharedWith: 21,
  /** client.backchannel_logout_uri and client.refresh_token_lifetime (Dex master). */
  clientBackchannelLogout: 22,
} as const;

/** The Dex release a schema number belongs to, for messages. */
export function dexReleaseOf(version: number): string {
  if (version <= 8) return 'older than Dex v2.29.0';
  if (version === 9) return 'Dex v2.29.0 to v2.32.x';
  if (version === 10) return 'Dex v2.33.x to v2.34.x';
  if (version === 11) return 'Dex v2.35.0 to v2.44.x';
  if (version === 12) return 'Dex v2.45.x, partly migrated';
  if (version === 13) return 'Dex v2.45.x';
  if (version <= NEWEST_SCHEMA) return 'Dex master after v2.45.x';
  return 'a Dex newer than this idgate knows';
}

/** Ent storage (DEX_ENT_ENABLED) has tables of its own names, which this importer does not read. */
const ENT_TABLES = ['oauth2clients', 'refresh_tokens', 'offline_sessions'];

/** Checks the tables and the schema number; returns the number. Throws not_dex or unsupported_schema. */
export async function checkDexSchema(source: DexSource): Promise<number> {
  const tables = await source.tableNames();
  const missing = DEX_TABLES.filter((table) => !tables.has(table));
  if (missing.length > 0) {
    const ent = ENT_TABLES.every((table) => tables.has(table))
      ? "; it looks like Dex's ent storage (DEX_ENT_ENABLED), which the importer does not read: run Dex once without DEX_ENT_ENABLED on a new database, or import from the SQL storage"
      : '';
    throw new DexImportError('not_dex', `${source.label} is not a Dex database: table(s) ${missing.join(', ')} missing${ent}`);
  }
  const [row] = await source.select('SELECT max(num) AS num FROM migrations');
  const version = row?.num === null || row?.num === undefined ? undefined : Number(row.num);
  if (version === undefined || !Number.isInteger(version)) {
    throw new DexImportError('not_dex', `${source.label} is not a Dex database: its migrations table is empty (Dex never finished migrating it)`);
  }
  if (version < OLDEST_SCHEMA || version > NEWEST_SCHEMA) {
    const advice = version < OLDEST_SCHEMA
      ? 'start a newer Dex (v2.29.0 or later) on it once, which migrates it, then import'
      : 'this idgate reads Dex schemas up to master at ab64ed77';
    throw new DexImportError(
      'unsupported_schema',
      `${source.label}: Dex schema version ${version} (${dexReleaseOf(version)}) is not supported; supported: ${OLDEST_SCHEMA} to ${NEWEST_SCHEMA}; ${advice}`,
    );
  }
  return version;
}
