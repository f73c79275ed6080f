/**
 * The browser's login session: started when a person signs in at a connector, reused by every later
 * /auth from that browser (single sign-on across the issuer's clients), ended by logout, the sessions
 * CLI, or its lifetimes (`sessions.absoluteLifetime` from its start, `sessions.validIfNotUsedFor` from
 * its last use). It lives in storage, so every replica sees the same session; the browser holds only a
 * random value (session-cookie.ts) whose hash is the session's id and every token's `sid`.
 *
 * The methods of the authentication (`amr`) are kept so a later sign-in through the session carries
 * them (and the `acr` they reach); a second factor passed later is added with `addAuthenticationMethod`,
 * or when the login that passed it is answered (login/flow.ts).
 */
import type { Config } from '../config/load.js';
import type { Scopes } from '../connector.js';
import type { EpochMs, LoginSession, Storage, StoredIdentity } from '../storage/storage.js';

export interface SessionPolicy {
  /** ms from the session's start. */
  absoluteLifetime: number;
  /** ms from its last use. */
  validIfNotUsedFor: number;
}

export function sessionPolicy(config: Pick<Config, 'sessions'>): SessionPolicy {
  return { absoluteLifetime: config.sessions.absoluteLifetime, validIfNotUsedFor: config.sessions.validIfNotUsedFor };
}

/** What an authentication at a connector established, as a session keeps it. */
export interface SessionLogin {
  connectorId: string;
  identity: StoredIdentity;
  connectorData?: string;
  connectorScopes: Scopes;
  /** RFC 8176 methods of this authentication ("pwd" for a password form; none known for an upstream). */
  amr: string[];
  /** Epoch seconds. */
  authTime: number;
}

/** The RFC 8176 methods an authentication at a connector of `kind` is known to have used. */
export function connectorMethods(kind: 'password' | 'callback' | 'saml'): string[] {
  return kind === 'password' ? ['pwd'] : [];
}

function withUse(session: LoginSession, now: EpochMs, policy: SessionPolicy): LoginSession {
  return { ...session, lastUsedAt: now, expiresAt: Math.min(session.absoluteExpiresAt, now + policy.validIfNotUsedFor) };
}

/** A new session for `login`; `id` is the hash of the cookie value that will name it. */
export function newLoginSession(id: string, login: SessionLogin, now: EpochMs, policy: SessionPolicy): LoginSession {
  const absoluteExpiresAt = now + policy.absoluteLifetime;
  return withUse({
    id,
    connectorId: login.connectorId,
    identity: login.identity,
    ...(login.connectorData !== undefined ? { connectorData: login.connectorData } : {}),
    connectorScopes: { offlineAccess: login.connectorScopes.offlineAccess, groups: login.connectorScopes.groups },
    authTime: login.authTime,
    amr: [...login.amr],
    clients: [],
    createdAt: now,
    lastUsedAt: now,
    absoluteExpiresAt,
    expiresAt: absoluteExpiresAt,
  }, now, policy);
}

/** True when `login` is the person the session is of (the same user at the same connector). */
export function isSamePerson(session: Pick<LoginSession, 'connectorId' | 'identity'>, connectorId: string, userId: string): boolean {
  return session.connectorId === connectorId && session.identity.userId === userId;
}

/**
 * The session after the same person authenticated again (prompt=login, max_age, a request needing
 * more of the connector): identity, connector state, methods and auth_time are the new ones; its id,
 * start and clients stay, so tokens already issued keep their `sid`.
 */
export function reauthenticated(session: LoginSession, login: SessionLogin, now: EpochMs, policy: SessionPolicy): LoginSession {
  const { connectorData: _stale, ...kept } = session;
  return withUse({
    ...kept,
    identity: login.identity,
    ...(login.connectorData !== undefined ? { connectorData: login.connectorData } : {}),
    connectorScopes: { offlineAccess: login.connectorScopes.offlineAccess, groups: login.connectorScopes.groups },
    authTime: login.authTime,
    amr: [...login.amr],
  }, now, policy);
}

/** The session after it answered `clientId`: its idle time starts again, and the client is among those to tell at logout. */
export function usedBy(session: LoginSession, clientId: string, now: EpochMs, policy: SessionPolicy): LoginSession {
  const known = session.clients.find((entry) => entry.clientId === clientId);
  const clients = known
    ? session.clients.map((entry) => (entry.clientId === clientId ? { ...entry, lastAt: now } : entry))
    : [...session.clients, { clientId, firstAt: now, lastAt: now }];
  return withUse({ ...session, clients }, now, policy);
}

/**
 * What a request needs of the connector: offline access for a refresh token (the upstream's own, kept
 * in the connector data), groups when it asks for them or the client admits only some (allowedGroups).
 */
export function neededConnectorScopes(scopes: readonly string[], client: { allowedGroups?: string[] } | undefined): Scopes {
  return { offlineAccess: scopes.includes('offline_access'), groups: scopes.includes('groups') || (client?.allowedGroups?.length ?? 0) > 0 };
}

/** True when what the connector was asked for covers `needed`: otherwise the request goes back to the connector. */
export function coversConnectorScopes(session: Pick<LoginSession, 'connectorScopes'>, needed: Scopes): boolean {
  return (!needed.offlineAccess || session.connectorScopes.offlineAccess) && (!needed.groups || session.connectorScopes.groups);
}

/** True unless `maxAge` (seconds, OIDC max_age) has passed since the session's last authentication. */
export function isFreshEnough(session: Pick<LoginSession, 'authTime'>, maxAge: number | undefined, now: EpochMs): boolean {
  return maxAge === undefined || Math.floor(now / 1000) - session.authTime <= maxAge;
}

/** `amr` with `methods` added (each once, in the order first used). */
export function withMethods(amr: readonly string[], methods: readonly string[]): string[] {
  return [...new Set([...amr, ...methods])];
}

/**
 * Adds an RFC 8176 authentication method (e.g. "otp", "hwk") the person has just passed to the
 * session's `amr`; sign-ins through the session from then on carry it. Throws NotFoundError when the
 * session has ended.
 */
export async function addAuthenticationMethod(storage: Pick<Storage, 'loginSessions'>, sessionId: string, method: string): Promise<LoginSession> {
  return storage.loginSessions.update(sessionId, (session) => ({ ...session, amr: withMethods(session.amr, [method]) }));
}
