/**
 * The claims idgate puts in its tokens: the Dex-compatible `sub`, the ID token (OIDC Core §2) and the
 * JWT access token (RFC 9068), each with exactly the identity claims the granted scopes allow.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { StoredIdentity } from '../storage/storage.js';
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
  /** The session (refresh-token family) ID, the tokens' `sid`. */
  sessionId: string;
  /** Epoch seconds of the authentication. */
  authTime: number;
  nonce?: string;
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
  return claims;
}

function registeredClaims(session: GrantedSession, issuedAt: number, lifetimeMs: number): JWTPayload {
  return {
    iss: session.issuer,
    sub: subjectOf(session.identity.userId, session.connectorId),
    aud: session.audience.length === 1 ? session.audience[0] : session.audience,
    exp: issuedAt + Math.floor(lifetimeMs / 1000),
    iat: issuedAt,
    auth_time: session.authTime,
  };
}

/** ID token claims; `accessToken` (and `code`) add at_hash (and c_hash) for `algorithm`. */
export function idTokenClaims(
  session: GrantedSession,
  at: { issuedAt: number; lifetimeMs: number; algorithm: string; accessToken?: string; code?: string; includeNonce: boolean },
): JWTPayload {
  const claims: JWTPayload = { ...registeredClaims(session, at.issuedAt, at.lifetimeMs), azp: session.clientId };
  if (at.includeNonce && session.nonce) claims.nonce = session.nonce;
  if (at.accessToken) claims.at_hash = tokenHashClaim(at.accessToken, at.algorithm);
  if (at.code) claims.c_hash = tokenHashClaim(at.code, at.algorithm);
  claims.sid = session.sessionId;
  return { ...claims, ...identityClaims(session) };
}

/** JWT access token claims (RFC 9068 §2.2), signed with header typ `at+jwt`. */
export function accessTokenClaims(session: GrantedSession, at: { issuedAt: number; lifetimeMs: number }): JWTPayload {
  return {
    ...registeredClaims(session, at.issuedAt, at.lifetimeMs),
    jti: randomBytes(16).toString('base64url'),
    client_id: session.clientId,
    scope: session.scopes.all.join(' '),
    sid: session.sessionId,
    ...identityClaims(session),
  };
}
