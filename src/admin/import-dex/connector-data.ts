/**
 * Dex's per-connector session state (`connector_data`: the upstream refresh token, the directory
 * entry) rewritten into what idgate's connector of the same type reads on refresh, so an imported
 * session refreshes upstream as it did at Dex. Where there is no rule the bytes stay as Dex wrote
 * them, and the importer says so.
 */
import type { StoredIdentity } from '../../storage/storage.js';

export interface ConnectorDataInput {
  /** The connector's type in idgate (config or imported), or undefined if it is unknown. */
  type: string | undefined;
  /** Its config (parsed by idgate for configured connectors, Dex's JSON for imported ones). */
  config: unknown;
  identity: StoredIdentity;
  /** When Dex created the session: the SAML login time. */
  createdAt: number;
  data: Buffer | undefined;
}

export interface ConnectorDataResult {
  data?: Buffer;
  /** Why the state could not be carried over as idgate reads it, if it could not. */
  problem?: string;
}

const json = (value: object): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

function parse(data: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(data.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Dex's OIDC connector keeps `{"RefreshToken": <base64 bytes>}`; idgate's keeps the upstream refresh
 * token and the upstream `sub`, which is the user ID when the connector's userIDKey is `sub` (the default).
 */
function oidcData(input: ConnectorDataInput, data: Buffer): ConnectorDataResult {
  const userIDKey = (input.config as { userIDKey?: unknown } | undefined)?.userIDKey ?? 'sub';
  if (userIDKey !== 'sub') {
    return { problem: `the upstream sub is not recorded (userIDKey is "${String(userIDKey)}"), so the upstream refresh cannot be checked; these sessions end at their first refresh` };
  }
  const stored = parse(data);
  const encoded = stored?.RefreshToken;
  if (stored === undefined || (encoded !== undefined && encoded !== null && typeof encoded !== 'string')) {
    return { problem: "the upstream session state is not Dex's OIDC connector data; these sessions end at their first refresh" };
  }
  const refreshToken = typeof encoded === 'string' && encoded !== '' ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
  return { data: json({ ...(refreshToken ? { refreshToken } : {}), sub: input.identity.userId }) };
}

/** Dex's LDAP connector keeps `{"username", "entry": {"DN", "Attributes"}}`; idgate's keeps the username and the DN. */
function ldapData(data: Buffer): ConnectorDataResult {
  const stored = parse(data);
  const dn = (stored?.entry as { DN?: unknown } | undefined)?.DN;
  if (typeof stored?.username !== 'string' || typeof dn !== 'string') {
    return { problem: "the directory state is not Dex's LDAP connector data; these sessions end at their first refresh" };
  }
  return { data: json({ username: stored.username, dn }) };
}

/** Dex keeps no SAML state that idgate can read; idgate's SAML refresh replays the identity of the login. */
function samlData(input: ConnectorDataInput): ConnectorDataResult {
  return { data: json({ identity: input.identity, loginAt: input.createdAt }) };
}

/** Dex's zero time.Time (what `expiry` holds when the upstream said nothing). */
const GO_ZERO_TIME = /^0001-01-01T00:00:00/;

/**
 * Dex's github, gitlab and microsoft connectors keep `{"accessToken", "refreshToken", "expiry"}`
 * (expiry an RFC 3339 time, or Go's zero time), its generic oauth connector `{"AccessToken"}`;
 * idgate's OAuth 2.0 connectors keep `{accessToken, refreshToken?, expiresAt?}` (epoch ms).
 */
function oauth2Data(type: string, data: Buffer): ConnectorDataResult {
  const stored = parse(data);
  const accessToken = type === 'oauth' ? stored?.AccessToken : stored?.accessToken;
  if (typeof accessToken !== 'string' || accessToken === '') {
    return { problem: `the upstream session state is not Dex's ${type} connector data; these sessions end at their first refresh` };
  }
  const refreshToken = typeof stored?.refreshToken === 'string' && stored.refreshToken !== '' ? stored.refreshToken : undefined;
  const expiry = typeof stored?.expiry === 'string' && !GO_ZERO_TIME.test(stored.expiry) ? Date.parse(stored.expiry) : Number.NaN;
  return { data: json({ accessToken, ...(refreshToken ? { refreshToken } : {}), ...(Number.isFinite(expiry) ? { expiresAt: expiry } : {}) }) };
}

/** Dex's google connector keeps the bare upstream refresh token; idgate's keeps it with the upstream `sub` (Dex's user ID). */
function googleData(input: ConnectorDataInput, data: Buffer): ConnectorDataResult {
  const refreshToken = data.toString('utf8');
  if (refreshToken === '' || /[\s{]/.test(refreshToken)) {
    return { problem: "the upstream session state is not Dex's google connector data; these sessions end at their first refresh" };
  }
  return { data: json({ refreshToken, sub: input.identity.userId }) };
}

export function translateConnectorData(input: ConnectorDataInput): ConnectorDataResult {
  switch (input.type) {
    case 'github':
    case 'gitlab':
    case 'microsoft':
    case 'oauth':
      return input.data ? oauth2Data(input.type, input.data) : {};
    case 'google':
      return input.data ? googleData(input, input.data) : {};
    case 'oidc':
      return input.data ? oidcData(input, input.data) : {};
    case 'ldap':
      return input.data ? ldapData(input.data) : {};
    case 'saml':
      return samlData(input);
    case undefined:
    case 'local':
      return input.data ? { data: input.data } : {};
    default:
      if (!input.data || input.type.startsWith('mock')) return input.data ? { data: input.data } : {};
      return { data: input.data, problem: `the upstream session state is kept as Dex wrote it, which idgate's ${input.type} connector may not read` };
  }
}
