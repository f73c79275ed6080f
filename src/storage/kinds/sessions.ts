/** What is remembered between a browser's requests: its login session, the consents given, an operator's console session. */
import type { EpochMs } from '../epoch-ms.js';
import type { StoredIdentity } from './authorization.js';

/**
 * A browser's login session (src/sessions/): who signed in, through which connector, how and when, and
 * which clients it signed in to. `id` is the SHA-256 (base64url) of the random value in the browser's
 * session cookie: the cookie is never stored, and the id, public as every token's `sid`, does not lead
 * back to it. Storage drops the record at `expiresAt`, so an expired session is simply absent.
 */
export interface LoginSession {
  id: string;
  connectorId: string;
  identity: StoredIdentity;
  /** The login's connector state (upstream tokens), for the refresh families of later clients. Sealed at rest. */
  connectorData?: string;
  /** What the connector was asked for: a request needing more (groups, offline access) goes back to it. */
  connectorScopes: { offlineAccess: boolean; groups: boolean };
  /** Epoch seconds of the latest authentication (`auth_time`, `max_age`). */
  authTime: number;
  /** RFC 8176 methods of that authentication, in the order they were used ("pwd", then "otp"...). */
  amr: string[];
  /** The clients that got a code or tokens in this session: those told when it ends (back-channel logout). */
  clients: Array<{ clientId: string; firstAt: EpochMs; lastAt: EpochMs }>;
  createdAt: EpochMs;
  lastUsedAt: EpochMs;
  /** createdAt + sessions.absoluteLifetime. */
  absoluteExpiresAt: EpochMs;
  /** The earlier of absoluteExpiresAt and lastUsedAt + sessions.validIfNotUsedFor. */
  expiresAt: EpochMs;
}

/** The scopes a person let a client have on the approval page, remembered so it is not asked again for them. */
export interface Consent {
  /** SHA-256 (base64url) of the subject and the client ID (consent.ts). */
  id: string;
  /** The `sub` it was given as (a user at a connector): the index key, to list one person's consents. */
  subject: string;
  userId: string;
  connectorId: string;
  clientId: string;
  scopes: string[];
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

/**
 * An operator's session in the console (admin/console), and before that its sign-in in progress. `id`
 * is the SHA-256 of the random cookie value; the cookie itself is never stored.
 */
export interface ConsoleSession {
  id: string;
  /** While signing in: what the authorization response is checked against (OIDC state, nonce, PKCE). */
  pending?: { state: string; nonce: string; codeVerifier: string; returnTo: string };
  /** Once signed in: who, as the ID token said. */
  user?: { subject: string; name: string; email?: string; groups: string[] };
  /** Anti-CSRF token of the session's forms. */
  csrfToken: string;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}
