/**
 * One record of every kind with every optional field set, so a round trip through a backend proves that
 * nothing is dropped or reshaped. Times are relative to `now` so expiry tests can move the clock.
 */
import type {
  AuthCode, AuthRequest, Client, Consent, ConnectorRecord, ConsoleSession, DeviceRequest, EpochMs, LoginFailures, LoginSession, MFACredentials, Password, RefreshToken, Revocation, SamlRequest,
  PushedAuthRequest, SigningKeys, Storage, StoredIdentity, TrafficReport, UsedId,
} from '../../src/storage/storage.js';

export const HOUR = 3_600_000;

export const identity = (userId = 'user-1'): StoredIdentity => ({
  userId,
  username: 'Jane Doe',
  preferredUsername: 'jane',
  email: 'jane@example.com',
  emailVerified: true,
  groups: ['admins', 'dev ops', 'ünïcode'],
});

export const client = (id = 'app'): Client => ({
  id,
  secretHash: 'sha256$47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU',
  redirectURIs: ['https://app.example.com/callback', 'http://127.0.0.1:8080/cb'],
  trustedPeers: ['other-app'],
  public: false,
  name: 'Example App',
  logoURL: 'https://app.example.com/logo.png',
  allowedConnectors: ['github', 'local'],
  requirePKCE: true,
  skipApprovalScreen: false,
  allowedGroups: ['admins', 'ünïcode'],
  postLogoutRedirectURIs: ['https://app.example.com/signed-out'],
  backchannelLogoutURI: 'https://app.example.com/backchannel-logout',
  backchannelLogoutSessionRequired: true,
});

export const authRequest = (id: string, now: EpochMs): AuthRequest => ({
  id,
  clientId: 'app',
  redirectURI: 'https://app.example.com/callback',
  responseType: 'code',
  scopes: ['openid', 'email', 'offline_access'],
  state: 'state-123',
  nonce: 'nonce-456',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  codeChallengeMethod: 'S256',
  prompt: ['login', 'consent'],
  maxAge: 300,
  loginHint: 'jane@example.com',
  connectorId: 'github',
  loggedIn: true,
  identity: identity(),
  connectorData: 'eyJ1cHN0cmVhbSI6InRva2VuIn0=',
  authTime: Math.floor(now / 1000),
  sessionId: 'login-session-1',
  csrfToken: 'csrf-789',
  responseMode: 'form_post',
  resources: ['https://api.example.com/', 'urn:example:ledger'],
  amr: ['pwd', 'otp', 'mfa'],
  acr: 'urn:idgate:acr:mfa',
  acrValues: ['urn:idgate:acr:mfa', 'phr'],
  mfa: { passed: ['totp'], pending: { kind: 'webauthn-assertion', authenticatorId: 'passkey', challenge: 'Y2hhbGxlbmdl' } },
  browserHash: 'browser-hash',
  parkedLogin: { finishHash: 'finish-hash', connectorId: 'saml', identity: identity('user-2'), connectorData: 'cGFya2Vk', denied: 'not this time' },
  createdAt: now,
  expiresAt: now + HOUR,
});

export const authCode = (id: string, now: EpochMs): AuthCode => ({
  id,
  clientId: 'app',
  redirectURI: 'https://app.example.com/callback',
  scopes: ['openid', 'profile'],
  nonce: 'nonce-456',
  codeChallenge: 'challenge',
  codeChallengeMethod: 'plain',
  connectorId: 'github',
  identity: identity(),
  connectorData: 'b3BhcXVl',
  authTime: Math.floor(now / 1000),
  sessionId: 'session-1',
  loginSession: true,
  amr: ['pwd', 'otp'],
  acr: 'urn:example:mfa',
  resources: ['https://api.example.com/'],
  createdAt: now,
  expiresAt: now + HOUR,
});

export const deviceRequest = (id: string, now: EpochMs, userCodeHash = 'user-code-hash'): DeviceRequest => ({
  id,
  userCodeHash,
  clientId: 'app',
  scopes: ['openid', 'groups', 'offline_access'],
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  codeChallengeMethod: 'S256',
  callbackSecretHash: 'callback-secret-hash',
  status: 'approved',
  interval: 10,
  lastPolledAt: now - 5_000,
  codeExpiresAt: now + HOUR / 2,
  connectorId: 'github',
  identity: identity(),
  connectorData: 'b3BhcXVl',
  authTime: Math.floor(now / 1000),
  sessionId: 'session-2',
  approvedAt: now,
  createdAt: now,
  expiresAt: now + HOUR,
});

export const refreshToken = (id: string, now: EpochMs, userId = 'user-1'): RefreshToken => ({
  id,
  accessTokens: [{ jti: 'jti-1', expiresAt: now + HOUR }],
  amr: ['pwd'],
  acr: 'urn:example:pwd',
  clientId: 'app',
  connectorId: 'github',
  scopes: ['openid', 'offline_access'],
  nonce: 'nonce-456',
  identity: identity(userId),
  connectorData: 'b3BhcXVl',
  authTime: Math.floor(now / 1000),
  resources: ['https://api.example.com/', 'urn:example:ledger'],
  tokenHash: 'current-hash',
  obsoleteTokenHash: 'previous-hash',
  obsoleteUntil: now + 3_000,
  createdAt: now,
  lastUsedAt: now,
  expiresAt: now + 24 * HOUR,
});

export const password = (email = 'jane@example.com'): Password => ({
  id: email.toLowerCase(),
  email,
  hash: '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W',
  username: 'jane',
  userId: 'user-1',
  groups: ['admins'],
  preferredUsername: 'jane',
  emailVerified: true,
});

export const signingKeys = (now: EpochMs): SigningKeys => ({
  id: 'signing',
  signingKey: { kid: 'k2', alg: 'RS256', kty: 'RSA', n: 'modulus', e: 'AQAB', d: 'private' },
  signingKeyPub: { kid: 'k2', alg: 'RS256', kty: 'RSA', n: 'modulus', e: 'AQAB' },
  verificationKeys: [{ publicKey: { kid: 'k1', alg: 'RS256', kty: 'RSA', n: 'old', e: 'AQAB' }, expiresAt: now + HOUR }],
  nextKey: { kid: 'k3', alg: 'ES256', kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
  nextRotation: now + 6 * HOUR,
});

export const connector = (id = 'github'): ConnectorRecord => ({
  id,
  type: 'oidc',
  name: 'GitHub',
  config: { issuer: 'https://github.example.com', scopes: ['openid'], nested: { flag: true, count: 3, none: null } },
  grantTypes: ['authorization_code', 'refresh_token'],
});

export const samlRequest = (id: string, now: EpochMs): SamlRequest => ({
  id,
  connectorId: 'saml',
  authRequestId: 'auth-1',
  createdAt: now,
  expiresAt: now + HOUR,
});

export const pushedAuthRequest = (id: string, now: EpochMs): PushedAuthRequest => ({
  id,
  clientId: 'app',
  params: { client_id: 'app', response_type: 'code', scope: 'openid email', resource: 'https://api.example.com/ urn:example:ledger' },
  createdAt: now,
  expiresAt: now + 60_000,
});

export const usedId = (id: string, now: EpochMs): UsedId => ({ id, expiresAt: now + HOUR });

export const revocation = (value: string, now: EpochMs, userId = 'user-1'): Revocation => ({
  id: `sid:${value}`,
  kind: 'sid',
  value,
  userId,
  createdAt: now,
  expiresAt: now + HOUR,
});

export const loginFailures = (id: string, now: EpochMs): LoginFailures => ({
  id,
  failures: [now - 1_000, now],
  lockedUntil: 0,
  expiresAt: now + HOUR,
});

export const mfaCredentials = (id: string, now: EpochMs): MFACredentials => ({
  id,
  connectorId: 'local',
  userId: 'user-1',
  totp: [{ authenticatorId: 'totp', secret: 'JBSWY3DPEHPK3PXP', lastUsedStep: 58_000_000, createdAt: now }],
  webauthn: [{
    authenticatorId: 'passkey', credentialId: 'Y3JlZGVudGlhbA', publicKey: 'cHVibGljLWtleQ', counter: 7, transports: ['usb', 'internal'],
    createdAt: now, lastUsedAt: now,
  }],
  webauthnUserId: 'dXNlci1oYW5kbGU',
  recoveryCodeHashes: ['47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'],
  createdAt: now,
  updatedAt: now,
});

export const loginSession = (id: string, now: EpochMs, userId = 'user-1'): LoginSession => ({
  id,
  connectorId: 'github',
  identity: identity(userId),
  connectorData: 'b3BhcXVl',
  connectorScopes: { offlineAccess: true, groups: false },
  authTime: Math.floor(now / 1000),
  amr: ['pwd', 'otp'],
  clients: [{ clientId: 'app', firstAt: now, lastAt: now }, { clientId: 'other-app', firstAt: now, lastAt: now + 1 }],
  createdAt: now,
  lastUsedAt: now,
  absoluteExpiresAt: now + 24 * HOUR,
  expiresAt: now + HOUR,
});

export const consent = (id: string, now: EpochMs, subject = 'CgZ1c2VyLTESBmdpdGh1Yg'): Consent => ({
  id,
  subject,
  userId: 'user-1',
  connectorId: 'github',
  clientId: 'app',
  scopes: ['openid', 'email', 'offline_access'],
  createdAt: now,
  updatedAt: now,
});

export const consoleSession = (id: string, now: EpochMs): ConsoleSession => ({
  id,
  pending: { state: 'state-1', nonce: 'nonce-1', codeVerifier: 'verifier-1', returnTo: '/console/graph?window=5m' },
  user: { subject: 'CiQwOGE4Njg0Yi1kYjg4', name: 'Jane Doe', email: 'jane@example.com', groups: ['ops', 'ünïcode'] },
  csrfToken: 'csrf-1',
  createdAt: now,
  expiresAt: now + HOUR,
});

export const trafficReport = (id: string, now: EpochMs): TrafficReport => ({
  id,
  replica: 'filter-a',
  from: now - 10_000,
  to: now,
  edges: [{
    peer: 'spiffe://cluster.local/ns/shop/sa/web', requestPrincipal: 'https://issuer.example/sub-1', namespace: 'shop', labels: 'app=orders,version=v1',
    allow: 3, deny: 1, recent: [{ time: new Date(now).toISOString(), decision: 'deny', path: '/orders' }],
  }],
  expiresAt: now + HOUR,
});

type AnyRecord = { id: string; [field: string]: unknown };

/** Every kind: a full record, a changed copy of it (for update), and whether it expires (so GC may delete it). */
export interface KindFixture {
  kind: keyof Omit<Storage, 'markUsed' | 'ping' | 'gc' | 'close'>;
  make(now: EpochMs): AnyRecord;
  change(record: AnyRecord): AnyRecord;
  expires: boolean;
}

const plain = <T extends object>(record: T): AnyRecord => ({ ...record }) as unknown as AnyRecord;

export const KIND_FIXTURES: KindFixture[] = [
  { kind: 'clients', make: () => plain(client('app')), change: (r) => ({ ...r, redirectURIs: ['https://new.example.com/cb'] }), expires: false },
  { kind: 'authRequests', make: (now) => plain(authRequest('req-1', now)), change: (r) => ({ ...r, loggedIn: false, identity: undefined }), expires: true },
  { kind: 'authCodes', make: (now) => plain(authCode('code-hash-1', now)), change: (r) => ({ ...r, scopes: ['openid'] }), expires: true },
  { kind: 'deviceRequests', make: (now) => plain(deviceRequest('device-code-hash-1', now)), change: (r) => ({ ...r, status: 'issued', connectorData: undefined }), expires: true },
  { kind: 'pushedAuthRequests', make: (now) => plain(pushedAuthRequest('par-1', now)), change: (r) => ({ ...r, params: {} }), expires: true },
  // A family of a browser's login session (sessionId): a session of its own is refreshToken() as it is.
  { kind: 'refreshTokens', make: (now) => plain({ ...refreshToken('family-1', now), sessionId: 'login-session-1' }), change: (r) => ({ ...r, tokenHash: 'rotated-hash' }), expires: true },
  { kind: 'passwords', make: () => plain(password()), change: (r) => ({ ...r, groups: [] }), expires: false },
  { kind: 'keys', make: (now) => plain(signingKeys(now)), change: (r) => ({ ...r, verificationKeys: [] }), expires: false },
  { kind: 'connectors', make: () => plain(connector('github')), change: (r) => ({ ...r, name: 'GitHub Enterprise' }), expires: false },
  { kind: 'samlRequests', make: (now) => plain(samlRequest('_a1b2c3', now)), change: (r) => ({ ...r, authRequestId: 'auth-2' }), expires: true },
  { kind: 'usedIds', make: (now) => plain(usedId('saml:_assertion', now)), change: (r) => ({ ...r, expiresAt: (r.expiresAt as number) + 1 }), expires: true },
  { kind: 'revocations', make: (now) => plain(revocation('session-1', now)), change: (r) => ({ ...r, userId: 'user-2' }), expires: true },
  { kind: 'loginFailures', make: (now) => plain(loginFailures('key-hash', now)), change: (r) => ({ ...r, failures: [], lockedUntil: r.expiresAt }), expires: true },
  { kind: 'mfaCredentials', make: (now) => plain(mfaCredentials('user-sub', now)), change: (r) => ({ ...r, recoveryCodeHashes: [] }), expires: false },
  { kind: 'loginSessions', make: (now) => plain(loginSession('session-hash', now)), change: (r) => ({ ...r, clients: [], connectorData: undefined }), expires: true },
  { kind: 'consents', make: (now) => plain(consent('consent-hash', now)), change: (r) => ({ ...r, scopes: ['openid'] }), expires: false },
  { kind: 'consoleSessions', make: (now) => plain(consoleSession('cookie-hash', now)), change: (r) => ({ ...r, pending: undefined }), expires: true },
  { kind: 'trafficReports', make: (now) => plain(trafficReport(`filter-a:${now}`, now)), change: (r) => ({ ...r, edges: [] }), expires: true },
];
