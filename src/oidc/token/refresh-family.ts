/**
 * Refresh-token families: the token format `<familyId>.<secret>`, the stored record (hashes only), the
 * lifetime rules (absoluteLifetime from creation, validIfNotUsedFor idle; 0 disables either), the
 * grant tag its access tokens carry in their jti (so one revocation revokes them all, however many were
 * issued), and the rotated secret. A rotated secret is HMAC(previous secret, a random salt kept in the record): the
 * server can hand the *same* new token to a client that replays the previous one within reuseInterval
 * (Dex's semantics) without ever storing a token in plaintext.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { hashToken } from '../../storage/secrets.js';
import type { EpochMs, RefreshToken } from '../../storage/storage.js';
import type { GrantedSession } from '../claims.js';
import { publicRandomId } from '../public-random-id.js';
import { parseDexRefreshToken } from './dex-refresh-token.js';

/**
 * The stored family; `rotationSalt` derives the current secret from the previous one. `importedFrom:
 * 'dex'` marks a family read from Dex's storage (`idgate import dex`): its secrets may also be
 * presented in Dex's wire format (dex-refresh-token.ts); its first use rotates it into ours.
 */
export type RefreshFamily = RefreshToken & { rotationSalt?: string; importedFrom?: 'dex' };

export interface RefreshPolicy {
  disableRotation: boolean;
  reuseInterval: number;
  validIfNotUsedFor: number;
  absoluteLifetime: number;
}

const NEVER = 8_640_000_000_000_000;

/** The `sid` of the family's tokens: its browser login session's, or its own id. */
export function sidOf(family: Pick<RefreshToken, 'id' | 'sessionId'>): string {
  return family.sessionId ?? family.id;
}

/**
 * The family's grant tag: what every access token it issues has before the `.` of its jti, so that a
 * `grant` revocation (revocation.ts) denies all of them with one record, at the issuer and in every
 * filter. A hash of the family id, not the id itself: the id is the first half of the refresh token,
 * and access tokens are shown to resource servers.
 */
export function grantTag(familyId: string): string {
  return createHash('sha256').update('idgate grant tag\n').update(familyId).digest('base64url').slice(0, 22);
}

/** A fresh `jti` carrying a grant tag: `<tag>.<16 random bytes>` (storage's grantTagOfJti reads the tag back). */
export function taggedTokenId(tag: string): string {
  return `${tag}.${publicRandomId(16)}`;
}

/** A fresh `jti` for an access token of the family. */
export function familyAccessTokenId(familyId: string): string {
  return taggedTokenId(grantTag(familyId));
}

/** The pre-2026-12 list of access tokens (RefreshToken.accessTokens) without those expired by `now`; undefined once empty. */
export function unexpiredListedAccessTokens(tracked: RefreshToken['accessTokens'], now: EpochMs): RefreshToken['accessTokens'] {
  const kept = tracked?.filter((entry) => entry.expiresAt > now);
  return kept && kept.length > 0 ? kept : undefined;
}

export function formatRefreshToken(familyId: string, secret: string): string {
  return `${familyId}.${secret}`;
}

/** Splits at the last dot (secrets are base64url, so they have none); undefined if malformed. */
export function parseRefreshToken(token: string): { familyId: string; secret: string } | undefined {
  const dot = token.lastIndexOf('.');
  if (dot <= 0 || dot === token.length - 1) return undefined;
  return { familyId: token.slice(0, dot), secret: token.slice(dot + 1) };
}

export type RefreshTokenFormat = 'idgate' | 'dex';

/**
 * A presented refresh token in either format: ours (`<familyId>.<secret>`) or Dex's (which has no dot).
 * The caller accepts the Dex format only for a family with `importedFrom: 'dex'`.
 */
export function parsePresentedRefreshToken(token: string): { familyId: string; secret: string; format: RefreshTokenFormat } | undefined {
  const ours = parseRefreshToken(token);
  if (ours) return { ...ours, format: 'idgate' };
  const dex = parseDexRefreshToken(token);
  return dex ? { familyId: dex.refreshId, secret: dex.token, format: 'dex' } : undefined;
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function rotatedSecret(previousSecret: string, salt: string): string {
  return createHmac('sha256', previousSecret).update(salt).digest('base64url');
}

/** When the family stops being usable: the earlier of the absolute and the idle limit. */
export function familyExpiresAt(createdAt: EpochMs, lastUsedAt: EpochMs, policy: RefreshPolicy): EpochMs {
  const absolute = policy.absoluteLifetime > 0 ? createdAt + policy.absoluteLifetime : NEVER;
  const idle = policy.validIfNotUsedFor > 0 ? lastUsedAt + policy.validIfNotUsedFor : NEVER;
  return Math.min(absolute, idle);
}

/**
 * A new family for a session; returns the record and the token to hand out. A family of a browser's
 * login session (`inLoginSession`) gets an id of its own; any other family is a session of its own, its
 * id the `sid`. The access token issued with it takes its id from familyAccessTokenId.
 */
export function newFamily(
  session: GrantedSession,
  connectorData: string | undefined,
  now: EpochMs,
  policy: RefreshPolicy,
  options: { inLoginSession: boolean },
): { record: RefreshFamily; token: string } {
  const secret = newSecret();
  const id = options.inLoginSession ? randomBytes(16).toString('base64url') : session.sessionId;
  const record: RefreshFamily = {
    id,
    ...(options.inLoginSession ? { sessionId: session.sessionId } : {}),
    ...(session.amr && session.amr.length > 0 ? { amr: session.amr } : {}),
    ...(session.acr !== undefined ? { acr: session.acr } : {}),
    clientId: session.clientId,
    connectorId: session.connectorId,
    scopes: session.scopes.all,
    nonce: session.nonce,
    identity: session.identity,
    connectorData,
    authTime: session.authTime,
    tokenHash: hashToken(secret),
    createdAt: now,
    lastUsedAt: now,
    expiresAt: familyExpiresAt(now, now, policy),
  };
  return { record, token: formatRefreshToken(id, secret) };
}

export type PresentedSecret = 'current' | 'previous_within_interval' | 'previous_expired' | 'unknown';

/** Which of the family's secrets was presented (by hash), and whether the reuse interval still covers it. */
export function classifySecret(family: RefreshFamily, secret: string, now: EpochMs): PresentedSecret {
  return classifySecretHash(family, hashToken(secret), now);
}

/** classifySecret for a secret already hashed (hashToken), for a caller that needs the hash again. */
export function classifySecretHash(family: RefreshFamily, hash: string, now: EpochMs): PresentedSecret {
  if (hash === family.tokenHash) return 'current';
  if (family.obsoleteTokenHash !== undefined && hash === family.obsoleteTokenHash) {
    return family.obsoleteUntil !== undefined && now < family.obsoleteUntil ? 'previous_within_interval' : 'previous_expired';
  }
  return 'unknown';
}
