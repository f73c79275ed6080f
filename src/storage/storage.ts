/**
 * The storage seam: typed records with compare-and-swap updates and expiries, shared by every backend.
 * Backends (memory, sqlite, postgres) implement the small `RecordBackend`; `createStorage` turns one
 * into the typed `Storage` the rest of idgate uses. Nothing here knows about OIDC, login or the filter.
 */

/** Milliseconds since the epoch. Every time in storage is one of these. */
export type EpochMs = number;

/** Claims about a person as a connector returned them, kept server-side. */
export interface StoredIdentity {
  userId: string;
  username: string;
  preferredUsername?: string;
  email?: string;
  emailVerified?: boolean;
  groups?: string[];
  /** Claims the connector's claimMappings.extra made (JSON values), for the tokens. */
  extra?: Record<string, unknown>;
}

/**
 * A client's registration metadata beyond Dex's fields (RFC 7591 names in camelCase). Absent means the
 * default each field documents; the config schema and the management API fill the same fields.
 */
export interface ClientMetadata {
  /** RFC 7591 grant_types this client may use; absent: authorization_code, refresh_token, device code and password (where enabled). */
  grantTypes?: string[];
  /** RFC 7591 token_endpoint_auth_method; absent: client_secret_basic or _post (confidential), none (public). */
  tokenEndpointAuthMethod?: string;
  /** RFC 7591 jwks: the client's public keys (private_key_jwt). */
  jwks?: { keys: Array<Record<string, unknown>> };
  /** RFC 7591 jwks_uri: where the client's public keys are fetched from. */
  jwksURI?: string;
  /** Scopes this client may ask for; absent: any scope idgate knows. */
  scopes?: string[];
  /** RFC 8707 resource indicators this client may ask tokens for. */
  resources?: string[];
  /** RFC 9126: this client must push its authorization requests (PAR). */
  requirePushedAuthorizationRequests?: boolean;
  /** Dex's mfaChain: authenticators (mfa.authenticators ids) its logins must pass, in order; [] means none, absent the default chain. */
  mfaChain?: string[];
  /** OpenID registration default_acr_values: the acr values of a request that names none. */
  defaultACRValues?: string[];
  /** RFC 8705 tls_client_auth_subject_dn: the RFC 4514 subject DN of the client's certificate (tls_client_auth). */
  tlsClientAuthSubjectDN?: string;
  /** RFC 8705 tls_client_auth_san_dns / _uri / _ip / _email: a subjectAltName entry the certificate must have. */
  tlsClientAuthSANDNS?: string;
  tlsClientAuthSANURI?: string;
  tlsClientAuthSANIP?: string;
  tlsClientAuthSANEmail?: string;
  /** RFC 8705 tls_client_certificate_bound_access_tokens: access tokens are bound to the client's certificate. */
  tlsClientCertificateBoundAccessTokens?: boolean;
  /** RFC 9449 dpop_bound_access_tokens: every token request must carry a DPoP proof. */
  dpopBoundAccessTokens?: boolean;
  /** Dex's oauth2.skipApprovalScreen for this client alone; absent: the global value. */
  skipApprovalScreen?: boolean;
  /** Groups a person must be in (one of) to sign in to this client; empty or absent: anyone. */
  allowedGroups?: string[];
  /** OpenID RP-Initiated Logout post_logout_redirect_uris: where /logout may send the browser back (exact match). */
  postLogoutRedirectURIs?: string[];
  /** OpenID Back-Channel Logout backchannel_logout_uri: where logout tokens are POSTed. */
  backchannelLogoutURI?: string;
  /** OpenID Back-Channel Logout backchannel_logout_session_required: logout tokens carry `sid`. */
  backchannelLogoutSessionRequired?: boolean;
}

export interface Client extends ClientMetadata {
  id: string;
  /** `sha256$<base64url>` of the secret; null for a public client. Never the plaintext. */
  secretHash: string | null;
  redirectURIs: string[];
  trustedPeers: string[];
  public: boolean;
  name: string;
  logoURL?: string;
  /** Connector IDs this client may log in through; empty or absent means all. */
  allowedConnectors?: string[];
  /** Require PKCE even though the client is confidential. */
  requirePKCE?: boolean;
  /** True for clients that come from the config file; they cannot be changed through storage. */
  static?: boolean;
}

/** Where a login's second factor stands: the authenticators it passed and the one ceremony under way. */
export interface MFAProgress {
  /** mfa.authenticators ids passed in this login. */
  passed: string[];
  /** A TOTP enrollment (its new secret) or a WebAuthn ceremony (its challenge), issued to this login alone. */
  pending?: {
    kind: 'totp-enrollment' | 'webauthn-registration' | 'webauthn-assertion';
    authenticatorId: string;
    secret?: string;
    challenge?: string;
  };
}

/** An authorization request in progress, from /auth until the code is issued. */
export interface AuthRequest {
  id: string;
  clientId: string;
  redirectURI: string;
  responseType: string;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  prompt?: string[];
  maxAge?: number;
  loginHint?: string;
  /** Connector chosen (connector_id or the chooser). */
  connectorId?: string;
  /** Set once the person has authenticated at the connector. */
  loggedIn: boolean;
  identity?: StoredIdentity;
  /** Opaque connector state (PKCE verifier, upstream tokens); base64. Never put in a token. */
  connectorData?: string;
  /** Epoch seconds of the authentication, for auth_time and max_age. */
  authTime?: number;
  /**
   * The browser's login session this login used or started (its id becomes the tokens' `sid`); before
   * the login, the session the chooser offered (prompt=select_account).
   */
  sessionId?: string;
  /** Anti-CSRF token bound to this request's forms. */
  csrfToken: string;
  /** How the authorization response is sent: query, fragment or form_post (response_mode). */
  responseMode: 'query' | 'fragment' | 'form_post';
  /** RFC 8707 resource indicators granted for the access token; absent when none was asked. */
  resources?: string[];
  /** The acr values asked for (acr_values, else the client's defaultACRValues), in the client's order. */
  acrValues?: string[];
  /** RFC 8176 methods this login used so far (pwd, otp, hwk, mfa) and the `acr` they reach (sessions/mfa/acr.ts). */
  amr?: string[];
  acr?: string;
  /** The second factor's progress (login/mfa-*.ts); sealed at rest, as it may hold a TOTP secret. */
  mfa?: MFAProgress;
  /** SHA-256 of the browser-binding cookie of the browser that started the request (login/browser-binding.ts). */
  browserHash: string;
  /** A POSTed upstream answer (SAML, form_post) parked until its follow-up GET passes the browser check. */
  parkedLogin?: ParkedLogin;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** What a POSTed upstream answer established, waiting for the same browser to collect it. */
export interface ParkedLogin {
  /** SHA-256 of the one-time token the POST's redirect carried. */
  finishHash: string;
  connectorId: string;
  /** The identity read, or (when the upstream refused) why it refused. */
  identity?: StoredIdentity;
  connectorData?: string;
  denied?: string;
}

/**
 * A pushed authorization request (RFC 9126): the parameters a client posted to /par, checked there,
 * kept under the random part of its `request_uri` until /auth takes it (once) or it expires.
 */
export interface PushedAuthRequest {
  id: string;
  clientId: string;
  /** The authorization request's parameters, without client authentication. */
  params: Record<string, string>;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** An issued authorization code. `id` is the SHA-256 (base64url) of the code; the code itself is never stored. */
export interface AuthCode {
  id: string;
  clientId: string;
  redirectURI: string;
  scopes: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  connectorId: string;
  identity: StoredIdentity;
  connectorData?: string;
  authTime: number;
  /** Session (token family) that this code starts; its tokens carry it as `sid`. */
  sessionId: string;
  /**
   * True when `sessionId` is the browser's login session (shared by every client it signed in to),
   * not one of this code's own: the refresh family then gets an id of its own.
   */
  loginSession?: boolean;
  /** RFC 8176 authentication methods and the `acr` of the login session, for the ID token. */
  amr?: string[];
  acr?: string;
  /** RFC 8707 resources the authorization granted; the token request may narrow them. */
  resources?: string[];
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/**
 * A device authorization request (RFC 8628), from /device/code until its tokens are issued. `id` is the
 * SHA-256 (base64url) of the device code and `userCodeHash` that of the normalised user code (its index
 * key); neither code is stored. Approval copies the login onto it; polling issues tokens once.
 */
export interface DeviceRequest {
  id: string;
  userCodeHash: string;
  clientId: string;
  scopes: string[];
  /** PKCE (as Dex accepts at /device/code): the poll must send the verifier. */
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  /** SHA-256 of the secret the latest code entry's login carries back to /device/callback (in `state`). */
  callbackSecretHash?: string;
  status: 'pending' | 'approved' | 'denied' | 'issued';
  /** Seconds the client must wait between polls; grows by 5 with every slow_down. */
  interval: number;
  lastPolledAt?: EpochMs;
  /** The codes' end of life (expiry.deviceRequests); the record outlives it so late polls hear expired_token. */
  codeExpiresAt: EpochMs;
  /** Set on approval: who logged in, through which connector, in which session (token family), and how (amr, acr). */
  connectorId?: string;
  identity?: StoredIdentity;
  connectorData?: string;
  authTime?: number;
  sessionId?: string;
  amr?: string[];
  acr?: string;
  approvedAt?: EpochMs;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/**
 * A refresh-token family: one record per login session and client, rotated in place.
 * The token handed out is `<id>.<secret>`; only hashes of secrets are kept.
 */
export interface RefreshToken {
  /** The family ID; also the `sid` of every token issued from it, unless `sessionId` is set. */
  id: string;
  /** The browser's login session the family was granted in: the `sid` of its tokens, shared with other clients. */
  sessionId?: string;
  /** The access tokens issued from the family that have not expired (their jti), so revoking it revokes them. */
  accessTokens?: Array<{ jti: string; expiresAt: EpochMs }>;
  /** RFC 8176 authentication methods and `acr` of the login, for refreshed ID tokens. */
  amr?: string[];
  acr?: string;
  clientId: string;
  connectorId: string;
  scopes: string[];
  nonce?: string;
  identity: StoredIdentity;
  connectorData?: string;
  authTime: number;
  /** RFC 8707 resources the login granted; each refresh may ask for some of them. */
  resources?: string[];
  /**
   * A public client's family is bound to what its first tokens were (RFC 9449 §5, RFC 8705 §4): the
   * DPoP key (jkt) or certificate (x5t#S256) every refresh must show again. Absent: not bound.
   */
  cnf?: { jkt?: string; 'x5t#S256'?: string };
  /** Hash of the current secret. */
  tokenHash: string;
  /** Hash of the secret it replaced, honoured until `obsoleteUntil` (reuseInterval). */
  obsoleteTokenHash?: string;
  obsoleteUntil?: EpochMs;
  createdAt: EpochMs;
  lastUsedAt: EpochMs;
  /** Absolute end of life (absoluteLifetime); also drives GC. */
  expiresAt: EpochMs;
}

export interface Password {
  /** Lowercased email: the login name and the record key. */
  id: string;
  email: string;
  /** bcrypt hash. */
  hash: string;
  username: string;
  userId: string;
  groups?: string[];
  preferredUsername?: string;
  emailVerified?: boolean;
  static?: boolean;
}

/** A public or private key as a JWK (private keys include the private members). */
export type JsonWebKey = Record<string, unknown> & { kid: string; alg: string; kty: string };

/** The signing key set: one record (`id: "signing"`), changed only by compare-and-swap. */
export interface SigningKeys {
  id: 'signing';
  signingKey?: JsonWebKey;
  signingKeyPub?: JsonWebKey;
  /** Public keys that may still verify: the next key (published before it signs) and retired ones. */
  verificationKeys: Array<{ publicKey: JsonWebKey; expiresAt: EpochMs }>;
  /** A key published in /keys that will sign after the next rotation (publish-before-sign). */
  nextKey?: JsonWebKey;
  nextRotation: EpochMs;
}

export interface ConnectorRecord {
  id: string;
  type: string;
  name: string;
  /** The connector's own config, as validated JSON. */
  config: unknown;
  /** Grants this connector may serve (Dex's connectors[].grantTypes); absent or empty: all. */
  grantTypes?: string[];
  static?: boolean;
}

/** A SAML AuthnRequest we sent; its ID must come back as InResponseTo exactly once. */
export interface SamlRequest {
  id: string;
  connectorId: string;
  authRequestId: string;
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** "This ID was seen" (a SAML assertion ID, a jti): used once, remembered until it expires. */
export interface UsedId {
  /** `<namespace>:<id>` */
  id: string;
  expiresAt: EpochMs;
}

/**
 * A revocation pushed to every filter until the revoked tokens' expiry: a session (`sid`), one token
 * (`jti`), or every token of a subject issued up to `createdAt` (`sub`: "revoke all sessions of a
 * user", including those that never got a refresh token).
 */
export interface Revocation {
  /** `sid:<value>`, `jti:<value>` or `sub:<value>` */
  id: string;
  kind: 'sid' | 'jti' | 'sub';
  /** The sid, the jti, or for `sub` the subject key of `subjectKey(iss, sub)`. */
  value: string;
  /** The user, so "revoke all sessions of a user" can be listed. */
  userId?: string;
  /** For `sub`: tokens issued at or before this instant (their `iat`, in whole seconds) are revoked. */
  createdAt: EpochMs;
  expiresAt: EpochMs;
}

/** The value of a `sub` revocation: a subject is only unique within its issuer. */
export function subjectKey(issuer: string, sub: string): string {
  return `${issuer} ${sub}`;
}

/** True if a token issued at `iat` (seconds) falls under a `sub` revocation made at `revokedAt` (ms). */
export function issuedBeforeRevocation(iat: unknown, revokedAt: EpochMs): boolean {
  // A token without a numeric iat cannot show it is newer; one issued in the second of the revocation
  // cannot either (iat has whole seconds), so both count as revoked.
  return typeof iat !== 'number' || iat <= Math.floor(revokedAt / 1000);
}

/** Failed password attempts of one throttle key (a user at a connector, a client IP); see login/throttle.ts. */
export interface LoginFailures {
  /** `<sha-256 of the key>`: keys hold what people typed, of any length. */
  id: string;
  /** When each failure within the window happened. */
  failures: EpochMs[];
  /** Refused until then (0: not locked). */
  lockedUntil: EpochMs;
  /** The later of the lockout's end and the last failure's window end. */
  expiresAt: EpochMs;
}

/** A TOTP secret (RFC 6238) a person enrolled for one authenticator (mfa.authenticators[].id). */
export interface TOTPCredential {
  authenticatorId: string;
  /** The shared secret, base32. */
  secret: string;
  /** The last time step a code was accepted for: codes of that step or earlier are refused (no reuse). */
  lastUsedStep: number;
  createdAt: EpochMs;
}

/** A WebAuthn credential (a passkey or security key) a person registered for one authenticator. */
export interface WebAuthnCredentialRecord {
  authenticatorId: string;
  /** The credential ID, base64url. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen: an assertion must carry a higher one, unless both are 0 (an authenticator that keeps none). */
  counter: number;
  transports?: string[];
  createdAt: EpochMs;
  lastUsedAt?: EpochMs;
}

/**
 * A person's second factors at one connector (sessions/mfa/). `id` is the person's `sub` (subjectOf
 * their user ID and the connector ID). The TOTP secrets are sealed at rest; recovery codes are kept
 * only as SHA-256 hashes (each is 80 random bits), and a used one is removed.
 */
export interface MFACredentials {
  id: string;
  connectorId: string;
  userId: string;
  totp: TOTPCredential[];
  webauthn: WebAuthnCredentialRecord[];
  /** The WebAuthn user handle of this person (random, base64url), shared by their credentials. */
  webauthnUserId: string;
  recoveryCodeHashes: string[];
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

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

/** One edge of the traffic graph in a TrafficReport: who called which workload, how often, how decided. */
export interface TrafficEdgeCounts {
  /** The verified mTLS peer (SPIFFE URI), when there was one. */
  peer?: string;
  /** The verified token's `iss/sub`, when there was one. */
  requestPrincipal?: string;
  /** The target workload: its namespace and labels as the proxy named them ("k=v,k2=v2"). */
  namespace: string;
  labels?: string;
  allow: number;
  deny: number;
  /** The latest decisions on the edge in the interval, as audit lines (never a token). */
  recent: Array<Record<string, unknown>>;
}

/** A filter replica's decision counts for one interval, flushed for consoles in other processes. */
export interface TrafficReport {
  /** `<replica>:<from>` */
  id: string;
  replica: string;
  from: EpochMs;
  to: EpochMs;
  edges: TrafficEdgeCounts[];
  expiresAt: EpochMs;
}

export interface Collection<T extends { id: string }> {
  /** The record, or undefined if absent or expired. */
  get(id: string): Promise<T | undefined>;
  /** Inserts; throws AlreadyExistsError if the ID is taken. */
  create(record: T): Promise<void>;
  /**
   * Atomic compare-and-swap: reads, applies `updater`, writes only if nobody wrote in between, and
   * retries otherwise (so `updater` may run more than once and must be pure). Throws NotFoundError.
   * An updater may throw to abort; that error propagates and nothing is written.
   */
  update(id: string, updater: (current: T) => T | Promise<T>): Promise<T>;
  /** True if something was deleted. */
  delete(id: string): Promise<boolean>;
  /** Atomic get-and-delete: of two concurrent calls, exactly one gets the record. */
  take(id: string): Promise<T | undefined>;
  /** Non-expired records, optionally only those whose index key equals `index`. */
  list(filter?: { index?: string }): Promise<T[]>;
}

export interface Storage {
  clients: Collection<Client>;
  authRequests: Collection<AuthRequest>;
  authCodes: Collection<AuthCode>;
  deviceRequests: Collection<DeviceRequest>;
  pushedAuthRequests: Collection<PushedAuthRequest>;
  refreshTokens: Collection<RefreshToken>;
  passwords: Collection<Password>;
  keys: Collection<SigningKeys>;
  connectors: Collection<ConnectorRecord>;
  samlRequests: Collection<SamlRequest>;
  usedIds: Collection<UsedId>;
  revocations: Collection<Revocation>;
  loginFailures: Collection<LoginFailures>;
  mfaCredentials: Collection<MFACredentials>;
  loginSessions: Collection<LoginSession>;
  consents: Collection<Consent>;
  consoleSessions: Collection<ConsoleSession>;
  trafficReports: Collection<TrafficReport>;
  /** Records "seen" once: true the first time, false if already present and unexpired. */
  markUsed(namespace: string, id: string, expiresAt: EpochMs): Promise<boolean>;
  /** Throws if the backend is unreachable (readiness). */
  ping(): Promise<void>;
  /** Deletes every expired record; returns how many per kind. */
  gc(now: EpochMs): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export type RecordKind =
  | 'clients'
  | 'authRequests'
  | 'authCodes'
  | 'deviceRequests'
  | 'pushedAuthRequests'
  | 'refreshTokens'
  | 'passwords'
  | 'keys'
  | 'connectors'
  | 'samlRequests'
  | 'usedIds'
  | 'revocations'
  | 'loginFailures'
  | 'mfaCredentials'
  | 'loginSessions'
  | 'consents'
  | 'consoleSessions'
  | 'trafficReports';

export const RECORD_KINDS: readonly RecordKind[] = [
  'clients', 'authRequests', 'authCodes', 'deviceRequests', 'pushedAuthRequests', 'refreshTokens', 'passwords', 'keys', 'connectors',
  'samlRequests', 'usedIds', 'revocations', 'loginFailures', 'mfaCredentials', 'loginSessions', 'consents', 'consoleSessions', 'trafficReports',
];

/** One stored row as a backend sees it: opaque JSON plus the columns it must index. */
export interface RawRecord {
  id: string;
  /** Incremented on every write; the CAS token. */
  version: number;
  /** Secondary lookup key (e.g. the user ID of a refresh token), or null. */
  indexKey: string | null;
  expiresAt: EpochMs | null;
  data: string;
}

/**
 * What a backend implements. All methods are atomic. `now` is passed in so expiry is testable
 * without sleeping: a record with expiresAt <= now is treated as absent.
 */
export interface RecordBackend {
  get(kind: RecordKind, id: string, now: EpochMs): Promise<RawRecord | undefined>;
  /** False if a record with that ID exists (an expired one is replaced). */
  insert(kind: RecordKind, record: RawRecord, now: EpochMs): Promise<boolean>;
  /** Writes only if the stored version equals `expectedVersion`; false otherwise. */
  replace(kind: RecordKind, record: RawRecord, expectedVersion: number): Promise<boolean>;
  delete(kind: RecordKind, id: string): Promise<boolean>;
  take(kind: RecordKind, id: string, now: EpochMs): Promise<RawRecord | undefined>;
  list(kind: RecordKind, index: string | undefined, now: EpochMs): Promise<RawRecord[]>;
  gc(now: EpochMs): Promise<Record<string, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StorageError extends Error {
  constructor(
    readonly code: 'not_found' | 'already_exists' | 'conflict' | 'read_only' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export class NotFoundError extends StorageError {
  constructor(kind: string, id: string) {
    super('not_found', `${kind} ${id} not found`);
  }
}

export class AlreadyExistsError extends StorageError {
  constructor(kind: string, id: string) {
    super('already_exists', `${kind} ${id} already exists`);
  }
}

/** The backend cannot be reached; callers answer 503, never a guess. */
export class StorageUnavailableError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}
