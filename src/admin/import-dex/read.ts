/**
 * Reads the Dex tables the importer carries over (client, password, refresh_token, offline_session,
 * connector, keys) into Dex-shaped records, with Dex's encodings decoded (column-values.ts) and only
 * the columns the database's schema number has. Dex's private signing key is never selected.
 */
import {
  boolValue, bytesValue, jsonValue, parseGoTime, stringListValue, textValue, timeValue, type Place,
} from './column-values.js';
import { COLUMN_SINCE, checkDexSchema } from './schema-version.js';
import { DexImportError, type DexSource, type Row } from './source.js';

export interface DexClient {
  id: string;
  /** Dex keeps client secrets in plaintext; only their hash goes to idgate. */
  secret: string;
  redirectURIs: string[];
  trustedPeers: string[];
  public: boolean;
  name: string;
  logoURL: string;
  allowedConnectors?: string[];
  /** Columns set on this client that idgate has no place for (Dex master's MFA, SSO, logout fields). */
  unsupportedFields: string[];
}

export interface DexPassword {
  email: string;
  /** bcrypt, as text. */
  hash: string;
  username: string;
  /** The `name` claim; Dex falls back to `username` when empty. */
  name: string;
  preferredUsername: string;
  userId: string;
  groups?: string[];
  /** Unset means true (Dex's default). */
  emailVerified?: boolean;
}

export interface DexClaims {
  userId: string;
  username: string;
  preferredUsername: string;
  email: string;
  emailVerified: boolean;
  groups?: string[];
}

export interface DexRefreshToken {
  id: string;
  clientId: string;
  scopes: string[];
  nonce: string;
  claims: DexClaims;
  connectorId: string;
  connectorData?: Buffer;
  /** The current secret, in plaintext in Dex's table; empty for tokens of very old Dex releases. */
  token: string;
  obsoleteToken: string;
  /** Epoch ms; undefined where Dex has its zero-time column default. */
  createdAt?: number;
  lastUsed?: number;
}

export interface DexOfflineSession {
  userId: string;
  connectorId: string;
  /** Client ID to the refresh token ID Dex keeps for it. */
  refresh: Record<string, string>;
  connectorData?: Buffer;
}

export interface DexConnector {
  id: string;
  type: string;
  name: string;
  /** The connector's config JSON, as stored. */
  config: unknown;
  grantTypes?: string[];
}

/** A JWK as go-jose's JSONWebKey marshals it. */
export type DexJwk = Record<string, unknown>;

export interface DexKeys {
  signingKeyPub?: DexJwk;
  verificationKeys: Array<{ publicKey: DexJwk; expiresAt?: number }>;
}

export interface DexDatabase {
  schemaVersion: number;
  clients: DexClient[];
  passwords: DexPassword[];
  refreshTokens: DexRefreshToken[];
  offlineSessions: DexOfflineSession[];
  connectors: DexConnector[];
  /** Absent when the keys table is empty (Dex never signed, or signed through Vault). */
  keys?: DexKeys;
}

const byKey = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The columns of `table` to select: `base`, plus each optional column whose migration the schema has. */
function columns(version: number, base: string[], optional: Array<[number, string[]]>): string {
  return [...base, ...optional.filter(([since]) => version >= since).flatMap(([, names]) => names)].join(', ');
}

/** Runs one select; a failure other than a lost connection means the table is not what Dex's schema has. */
async function selectFrom(source: DexSource, table: string, sql: string): Promise<Row[]> {
  try {
    return await source.select(sql);
  } catch (error) {
    if (error instanceof DexImportError) throw error;
    throw new DexImportError('not_dex', `${source.label}: table ${table} is not as Dex's schema has it: ${(error as Error).message}`, { cause: error });
  }
}

function reader(table: string, row: Row, idColumn: string) {
  const id = String(row[idColumn] ?? '');
  const at = (column: string): Place => ({ table, id, column });
  return {
    id,
    text: (column: string) => textValue(row[column], at(column)),
    bool: (column: string) => boolValue(row[column], at(column)),
    bytes: (column: string) => bytesValue(row[column], at(column)),
    json: (column: string) => jsonValue(row[column], at(column)),
    list: (column: string) => stringListValue(row[column], at(column)),
    time: (column: string) => timeValue(row[column], at(column)),
  };
}

async function readClients(source: DexSource, version: number): Promise<DexClient[]> {
  const select = columns(version, ['id', 'secret', 'redirect_uris', 'trusted_peers', 'public', 'name', 'logo_url'], [
    [COLUMN_SINCE.clientAllowedConnectors, ['allowed_connectors']],
    [COLUMN_SINCE.clientMfaChain, ['mfa_chain']],
    [COLUMN_SINCE.clientPostLogoutRedirectURIs, ['post_logout_redirect_uris']],
    [COLUMN_SINCE.clientSsoSharedWith, ['sso_shared_with']],
    [COLUMN_SINCE.clientBackchannelLogout, ['backchannel_logout_uri', 'refresh_token_lifetime']],
  ]);
  const rows = await selectFrom(source, 'client', `SELECT ${select} FROM client`);
  return rows.map((row) => {
    const r = reader('client', row, 'id');
    const unsupportedFields = [
      ...['mfa_chain', 'post_logout_redirect_uris', 'sso_shared_with'].filter((column) => (r.list(column) ?? []).length > 0),
      ...['backchannel_logout_uri', 'refresh_token_lifetime'].filter((column) => r.text(column) !== ''),
    ];
    const allowedConnectors = r.list('allowed_connectors');
    return {
      id: r.id,
      secret: r.text('secret'),
      redirectURIs: r.list('redirect_uris') ?? [],
      trustedPeers: r.list('trusted_peers') ?? [],
      public: r.bool('public') ?? false,
      name: r.text('name'),
      logoURL: r.text('logo_url'),
      ...(allowedConnectors && allowedConnectors.length > 0 ? { allowedConnectors } : {}),
      unsupportedFields,
    };
  }).sort(byKey((client) => client.id));
}

async function readPasswords(source: DexSource, version: number): Promise<DexPassword[]> {
  const select = columns(version, ['email', 'hash', 'username', 'user_id'], [
    [COLUMN_SINCE.passwordGroups, ['preferred_username', 'groups']],
    [COLUMN_SINCE.passwordName, ['name', 'email_verified']],
  ]);
  const rows = await selectFrom(source, 'password', `SELECT ${select} FROM password`);
  return rows.map((row) => {
    const r = reader('password', row, 'email');
    const groups = r.list('groups');
    const emailVerified = r.bool('email_verified');
    return {
      email: r.id.toLowerCase(),
      hash: r.bytes('hash')?.toString('utf8') ?? '',
      username: r.text('username'),
      name: r.text('name'),
      preferredUsername: r.text('preferred_username'),
      userId: r.text('user_id'),
      ...(groups ? { groups } : {}),
      ...(emailVerified !== undefined ? { emailVerified } : {}),
    };
  }).sort(byKey((password) => password.email));
}

async function readRefreshTokens(source: DexSource): Promise<DexRefreshToken[]> {
  const rows = await selectFrom(source, 'refresh_token', `SELECT id, client_id, scopes, nonce, claims_user_id, claims_username,
    claims_preferred_username, claims_email, claims_email_verified, claims_groups, connector_id, connector_data,
    token, obsolete_token, created_at, last_used FROM refresh_token`);
  return rows.map((row) => {
    const r = reader('refresh_token', row, 'id');
    const groups = r.list('claims_groups');
    const connectorData = r.bytes('connector_data');
    return {
      id: r.id,
      clientId: r.text('client_id'),
      scopes: r.list('scopes') ?? [],
      nonce: r.text('nonce'),
      claims: {
        userId: r.text('claims_user_id'),
        username: r.text('claims_username'),
        preferredUsername: r.text('claims_preferred_username'),
        email: r.text('claims_email'),
        emailVerified: r.bool('claims_email_verified') ?? false,
        ...(groups ? { groups } : {}),
      },
      connectorId: r.text('connector_id'),
      ...(connectorData && connectorData.length > 0 ? { connectorData } : {}),
      token: r.text('token'),
      obsoleteToken: r.text('obsolete_token'),
      createdAt: r.time('created_at'),
      lastUsed: r.time('last_used'),
    };
  }).sort(byKey((token) => token.id));
}

async function readOfflineSessions(source: DexSource): Promise<DexOfflineSession[]> {
  const rows = await selectFrom(source, 'offline_session', 'SELECT user_id, conn_id, refresh, connector_data FROM offline_session');
  return rows.map((row) => {
    const r = reader('offline_session', { ...row, key: `${String(row.user_id)}/${String(row.conn_id)}` }, 'key');
    // Go marshals map[string]*RefreshTokenRef with the struct's field names (no JSON tags).
    const refs = r.json('refresh') ?? {};
    if (typeof refs !== 'object' || Array.isArray(refs)) throw new DexImportError('not_dex', `offline_session ${r.id}: column refresh is not a JSON object`);
    const refresh: Record<string, string> = {};
    for (const [clientId, ref] of Object.entries(refs as Record<string, { ID?: unknown } | null>)) {
      if (ref && typeof ref.ID === 'string') refresh[clientId] = ref.ID;
    }
    const connectorData = r.bytes('connector_data');
    return {
      userId: r.text('user_id'),
      connectorId: r.text('conn_id'),
      refresh,
      ...(connectorData && connectorData.length > 0 ? { connectorData } : {}),
    };
  }).sort(byKey((session) => `${session.userId}\u0000${session.connectorId}`));
}

async function readConnectors(source: DexSource, version: number): Promise<DexConnector[]> {
  const select = columns(version, ['id', 'type', 'name', 'config'], [[COLUMN_SINCE.connectorGrantTypes, ['grant_types']]]);
  const rows = await selectFrom(source, 'connector', `SELECT ${select} FROM connector`);
  return rows.map((row) => {
    const r = reader('connector', row, 'id');
    const grantTypes = r.list('grant_types');
    return {
      id: r.id,
      type: r.text('type'),
      name: r.text('name'),
      config: r.json('config') ?? {},
      ...(grantTypes && grantTypes.length > 0 ? { grantTypes } : {}),
    };
  }).sort(byKey((connector) => connector.id));
}

function isJwk(value: unknown): value is DexJwk {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readKeys(source: DexSource): Promise<DexKeys | undefined> {
  const [row] = await selectFrom(source, 'keys', "SELECT verification_keys, signing_key_pub FROM keys WHERE id = 'keys'");
  if (!row) return undefined;
  const r = reader('keys', { ...row, id: 'keys' }, 'id');
  const pub = r.json('signing_key_pub');
  const entries = r.json('verification_keys') ?? [];
  if ((pub !== undefined && !isJwk(pub)) || !Array.isArray(entries)) throw new DexImportError('not_dex', 'keys: signing_key_pub or verification_keys is not JSON as Dex writes it');
  const verificationKeys = entries.map((entry: unknown, index) => {
    const { publicKey, expiry } = (entry ?? {}) as { publicKey?: unknown; expiry?: unknown };
    const expiresAt = typeof expiry === 'string' ? parseGoTime(expiry) : null;
    if (!isJwk(publicKey) || expiresAt === null) throw new DexImportError('not_dex', `keys: verification_keys[${index}] is not {publicKey, expiry} as Dex writes it`);
    return { publicKey, expiresAt };
  });
  return { ...(pub ? { signingKeyPub: pub } : {}), verificationKeys };
}

/** Checks the schema, then reads every table the importer needs. */
export async function readDexDatabase(source: DexSource): Promise<DexDatabase> {
  const schemaVersion = await checkDexSchema(source);
  const keys = await readKeys(source);
  return {
    schemaVersion,
    clients: await readClients(source, schemaVersion),
    passwords: await readPasswords(source, schemaVersion),
    refreshTokens: await readRefreshTokens(source),
    offlineSessions: await readOfflineSessions(source),
    connectors: await readConnectors(source, schemaVersion),
    ...(keys ? { keys } : {}),
  };
}
