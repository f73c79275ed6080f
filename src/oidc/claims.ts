/**
 * The claims idgate puts in its tokens: the Dex-compatible `sub`, the ID token (OIDC Core §2) and the
 * JWT access token (RFC 9068), each with exactly the identity claims the granted scopes allow.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { ClientTokenClaims } from '../claims/client-claims.js';
import type { StoredIdentity } from '../storage/storage.js';
import { publicRandomId } from './public-random-id.js';
import { accessTokenAudience } from './resources.js';
import type { ParsedScopes } from './scopes.js';

/** What a grant established, from which both tokens are built. */
export interface GrantedSession {
  issuer: string;
  clientId: string;
  connectorId: string;
  identity: StoredIdentity;
  scopes: ParsedScopes;
  /** `aud`: the client, plus trusted peers asked for with audience:server:client_id:<peer>. */
  audience: string[];
  /** RFC 8707 resources: when given, the access token's `aud` instead of `audience` (the ID token keeps it). */
  resources?: string[];
  /** The session (refresh-token family) ID, the tokens' `sid`. */
  sessionId: string;
  /** Epoch seconds of the authentication. */
  authTime: number;
  /** RFC 8176 methods of that authentication and the context class it reached (the login session's). */
  amr?: string[];
  acr?: string;
  nonce?: string;
  /** What the client's own claim expressions add (src/claims/client-claims.ts), per token. */
  clientClaims?: ClientTokenClaims;
}

function protobufString(field: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length: number[] = [];
  let rest = bytes.length;
  do {
    length.push((rest & 0x7f) | (rest > 0x7f ? 0x80 : 0));
    rest >>>= 7;
  } while (rest > 0);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...length]), bytes]);
}

/**
 * `sub`, exactly as Dex computes it: base64url (no padding) of the protobuf `IDTokenSubject{user_id = 1,
 * conn_id = 2}`. Stable per (upstream user ID, connector ID), so subjects survive a move from Dex.
 */
export function subjectOf(userId: string, connectorId: string): string {
  return Buffer.concat([protobufString(1, userId), protobufString(2, connectorId)]).toString('base64url');
}

/** Reads a protobuf varint at `offset`; undefined if it runs past the end or beyond 64 bits. */
function readVarint(bytes: Buffer, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && offset + i < bytes.length; i++) {
    const byte = bytes[offset + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  return undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The inverse of `subjectOf`, as Dex decodes a `sub` (internal.Unmarshal: unpadded base64url, then the
 * protobuf IDTokenSubject): fields in any order, the last one winning, unknown fields skipped, absent
 * ones empty. Undefined if `sub` is not such an encoding (bad base64url, truncated or malformed
 * protobuf, strings that are not UTF-8).
 */
export function parseSubject(sub: string): { userId: string; connectorId: string } | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(sub) || sub.length % 4 === 1) return undefined;
  const bytes = Buffer.from(sub, 'base64url');
  const fields: Record<number, string> = { 1: '', 2: '' };
  let offset = 0;
  while (offset < bytes.length) {
    const key = readVarint(bytes, offset);
    if (!key || key.value < 8) return undefined;
    const field = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    offset = key.next;
    if (wireType === 0) {
      const skipped = readVarint(bytes, offset);
      if (!skipped) return undefined;
      offset = skipped.next;
    } else if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4;
    } else if (wireType === 2) {
      const length = readVarint(bytes, offset);
      if (!length || length.next + length.value > bytes.length) return undefined;
      const value = bytes.subarray(length.next, length.next + length.value);
      offset = length.next + length.value;
      if (field === 1 || field === 2) {
        try {
          fields[field] = UTF8.decode(value);
        } catch {
          return undefined;
        }
      }
    } else {
      return undefined; // groups (3, 4) and reserved wire types
    }
    if (offset > bytes.length) return undefined;
  }
  return { userId: fields[1]!, connectorId: fields[2]! };
}

/** at_hash / c_hash (OIDC Core §3.3.2.11): left half of the hash the signing algorithm uses. */
export function tokenHashClaim(value: string, algorithm: string): string {
  const hash = algorithm === 'EdDSA' ? 'sha512' : `sha${algorithm.slice(2)}`;
  const digest = createHash(hash).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** The identity claims the scopes grant; shared by the ID token, the access token and /userinfo. */
export function identityClaims(session: Pick<GrantedSession, 'identity' | 'scopes' | 'connectorId'>): JWTPayload {
  const { identity, scopes } = session;
  const claims: JWTPayload = {};
  if (scopes.email && identity.email !== undefined) {
    claims.email = identity.email;
    claims.email_verified = identity.emailVerified ?? false;
  }
  if (scopes.profile) {
    claims.name = identity.username;
    if (identity.preferredUsername) claims.preferred_username = identity.preferredUsername;
  }
  if (scopes.groups) claims.groups = identity.groups ?? [];
  if (scopes.federatedId) claims.federated_claims = { connector_id: session.connectorId, user_id: identity.userId };
  // The connector's claimMappings.extra, whatever the scopes; their names were refused at load if
  // idgate sets them, and never replace a claim set above.
  for (const [name, value] of Object.entries(identity.extra ?? {})) if (!(name in claims)) claims[name] = value;
  return claims;
}

/** The identity claims each scope grants, as identityClaims writes them. */
const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username'],
  groups: ['groups'],
  'federated:id': ['federated_claims'],
};

/** The identity claims of a token of ours that `scopes` grant (for /userinfo, and tokens made from a token). */
export function claimsForScopes(payload: JWTPayload, scopes: readonly string[]): JWTPayload {
  const claims: JWTPayload = {};
  for (const scope of scopes) {
    for (const name of CLAIMS_BY_SCOPE[scope] ?? []) if (payload[name] !== undefined) claims[name] = payload[name];
  }
  return claims;
}

/** An ID token has no `scope`: openid, and each scope whose claims it carries, is what it shows was granted. */
export function scopesShownBy(idToken: JWTPayload): string[] {
  return ['openid', ...Object.keys(CLAIMS_BY_SCOPE).filter((scope) => CLAIMS_BY_SCOPE[scope]!.some((name) => idToken[name] !== undefined))];
}

/** RFC 8693 §4.1 `act`: the party acting for the subject; a nested `act` records the earlier actors. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/**
 * What a token says, whatever produced it: a login session (sessionContent), a client on its own
 * behalf (client_credentials) or a token exchange. Both token builders below read only this.
 */
export interface TokenContent {
  issuer: string;
  subject: string;
  audience: string[];
  /** The client the token is issued to (`client_id`, the ID token's `azp`). */
  clientId: string;
  scopes: readonly string[];
  /** Identity claims the scopes grant (identityClaims, claimsForScopes). */
  identity: JWTPayload;
  /** The login session (`sid`) and when it authenticated (`auth_time`), for tokens that come from one. */
  sessionId?: string;
  authTime?: number;
  /** How it authenticated (RFC 8176 `amr`, OIDC `acr`), when known. */
  amr?: string[];
  acr?: string;
  act?: ActorClaim;
  /** Epoch seconds the token must not outlive (the token it was exchanged for). */
  notAfter?: number;
  /** The client's own claims (GrantedSession.clientClaims). */
  clientClaims?: ClientTokenClaims;
}

export function sessionContent(session: GrantedSession): TokenContent {
  return {
    issuer: session.issuer,
    subject: subjectOf(session.identity.userId, session.connectorId),
    audience: session.audience,
    clientId: session.clientId,
    scopes: session.scopes.all,
    identity: identityClaims(session),
    sessionId: session.sessionId,
    authTime: session.authTime,
    ...(session.amr && session.amr.length > 0 ? { amr: session.amr } : {}),
    ...(session.acr !== undefined ? { acr: session.acr } : {}),
    ...(session.clientClaims ? { clientClaims: session.clientClaims } : {}),
  };
}

// The two builders below run twice per token response: they add to one object in claim order rather
// than spread partial objects into new ones.
function registeredClaims(content: TokenContent, issuedAt: number, lifetimeMs: number): JWTPayload {
  const exp = issuedAt + Math.floor(lifetimeMs / 1000);
  const claims: JWTPayload = {
    iss: content.issuer,
    sub: content.subject,
    aud: content.audience.length === 1 ? content.audience[0] : content.audience,
    exp: content.notAfter === undefined ? exp : Math.min(exp, content.notAfter),
    iat: issuedAt,
  };
  if (content.authTime !== undefined) claims.auth_time = content.authTime;
  if (content.amr !== undefined) claims.amr = content.amr;
  if (content.acr !== undefined) claims.acr = content.acr;
  return claims;
}

/** ID token claims for any content; `accessToken` (and `code`) add at_hash (and c_hash) for `algorithm`. */
export function contentIdTokenClaims(
  content: TokenContent,
  at: { issuedAt: number; lifetimeMs: number; algorithm: string; accessToken?: string; code?: string; nonce?: string },
): JWTPayload {
  const claims = registeredClaims(content, at.issuedAt, at.lifetimeMs);
  claims.azp = content.clientId;
  if (at.nonce) claims.nonce = at.nonce;
  if (at.accessToken) claims.at_hash = tokenHashClaim(at.accessToken, at.algorithm);
  if (at.code) claims.c_hash = tokenHashClaim(at.code, at.algorithm);
  if (content.sessionId !== undefined) claims.sid = content.sessionId;
  if (content.act) claims.act = content.act;
  // A client's claims may replace identity claims (a narrower groups); registered ones were refused at load.
  return { ...claims, ...content.identity, ...content.clientClaims?.idToken };
}

/** ID token claims of a login session; `content` is its sessionContent, when the caller already made it. */
export function idTokenClaims(
  session: GrantedSession,
  at: { issuedAt: number; lifetimeMs: number; algorithm: string; accessToken?: string; code?: string; includeNonce: boolean },
  content: TokenContent = sessionContent(session),
): JWTPayload {
  const { includeNonce, ...rest } = at;
  return contentIdTokenClaims(content, { ...rest, ...(includeNonce && session.nonce && { nonce: session.nonce }) });
}

/** A fresh access token `jti`. */
export function newTokenId(): string {
  return publicRandomId(16);
}

/** JWT access token claims (RFC 9068 §2.2) for any content, signed with header typ `at+jwt`; `jti` when chosen beforehand. */
export function contentAccessTokenClaims(content: TokenContent, at: AccessTokenTimes): JWTPayload {
  const claims = registeredClaims(content, at.issuedAt, at.lifetimeMs);
  claims.jti = at.jti ?? newTokenId();
  claims.client_id = content.clientId;
  if (content.scopes.length > 0) claims.scope = content.scopes.join(' ');
  if (content.sessionId !== undefined) claims.sid = content.sessionId;
  if (content.act) claims.act = content.act;
  if (at.cnf) claims.cnf = at.cnf;
  return { ...claims, ...content.identity, ...content.clientClaims?.accessToken };
}

/**
 * RFC 7800 `cnf` of a sender-constrained access token: the DPoP key's RFC 7638 thumbprint (RFC 9449
 * §6, `jkt`) and/or the client certificate's SHA-256 (RFC 8705 §3.1, `x5t#S256`), both base64url.
 */
export interface Confirmation {
  jkt?: string;
  'x5t#S256'?: string;
}

/** When an access token is issued, for how long, its `jti` when the caller chose it, and what it is bound to. */
export interface AccessTokenTimes {
  issuedAt: number;
  lifetimeMs: number;
  jti?: string;
  cnf?: Confirmation;
}

/**
 * JWT access token claims of a login session; its `aud` is the session's resources when it has any.
 * `content` is its sessionContent, when the caller already made it (for the ID token beside it).
 */
export function accessTokenClaims(session: GrantedSession, at: AccessTokenTimes, content: TokenContent = sessionContent(session)): JWTPayload {
  const audience = accessTokenAudience(session.resources, session.audience);
  return contentAccessTokenClaims({ ...content, audience }, at);
}
