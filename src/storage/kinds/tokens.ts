/** What issued tokens rest on: refresh-token families, the signing key set, and revocations. */
import type { EpochMs } from '../epoch-ms.js';
import type { StoredIdentity } from './authorization.js';

/**
 * A refresh-token family: one record per login session and client, rotated in place.
 * The token handed out is `<id>.<secret>`; only hashes of secrets are kept.
 */
export interface RefreshToken {
  /** The family ID; also the `sid` of every token issued from it, unless `sessionId` is set. */
  id: string;
  /** The browser's login session the family was granted in: the `sid` of its tokens, shared with other clients. */
  sessionId?: string;
  /**
   * Written by idgate before 2026-12 only: the family's unexpired access tokens by jti. A family's
   * access tokens now carry its grant tag in their jti (grantTag), so one `grant` revocation covers
   * them all; a list still stored is revoked with it until its tokens expire.
   */
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

/**
 * A revocation pushed to every filter until the revoked tokens' expiry: a session (`sid`), one token
 * (`jti`), every access token of one refresh-token family (`grant`: their jti starts with the family's
 * grant tag), or every token of a subject issued up to `createdAt` (`sub`: "revoke all sessions of a
 * user", including those that never got a refresh token).
 */
export interface Revocation {
  /** `sid:<value>`, `jti:<value>`, `grant:<value>` or `sub:<value>` */
  id: string;
  kind: 'sid' | 'jti' | 'grant' | 'sub';
  /** The sid, the jti, for `grant` the key `grantKey(iss, tag)`, for `sub` the subject key of `subjectKey(iss, sub)`. */
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

/** The value of a `grant` revocation: a family's grant tag, like a subject, is its issuer's. */
export function grantKey(issuer: string, tag: string): string {
  return `${issuer} ${tag}`;
}

/**
 * The grant tag of a token's jti: what precedes its first `.` (a family's access tokens have the jti
 * `<grantTag>.<random>`, other tokens a plain random one). Undefined for a jti without one.
 */
export function grantTagOfJti(jti: string): string | undefined {
  const dot = jti.indexOf('.');
  return dot > 0 ? jti.slice(0, dot) : undefined;
}

/** True if a token issued at `iat` (seconds) falls under a `sub` revocation made at `revokedAt` (ms). */
export function issuedBeforeRevocation(iat: unknown, revokedAt: EpochMs): boolean {
  // A token without a numeric iat cannot show it is newer; one issued in the second of the revocation
  // cannot either (iat has whole seconds), so both count as revoked.
  return typeof iat !== 'number' || iat <= Math.floor(revokedAt / 1000);
}
