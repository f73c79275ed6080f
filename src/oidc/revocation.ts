/**
 * Revoking a session: its refresh-token family is deleted and a `sid:<sessionId>` revocation record is
 * written until every token issued in it has expired, so /userinfo (and filters, which receive
 * revocations) refuse its access tokens too. Used on code reuse, refresh-token reuse and failed
 * upstream refresh, and by the revocation endpoint (RFC 7009) and the sessions CLI. A family granted in
 * a browser's login session shares that session's `sid` with the other clients signed in with it, so
 * revoking the family revokes its own access tokens instead, and leaves the others be: each of them
 * carries the family's grant tag in its jti (refresh-family.ts), and one `grant` record denies every
 * one, however many the family issued. Ending the login session itself (src/sessions/end-session.ts)
 * revokes the `sid`.
 *
 * Revoking a subject (the sessions CLI without --client) covers every session of a user, also those
 * that never got a refresh token and so are not stored: a `sub:` record says "every token of this
 * subject issued up to now", which /userinfo and filters compare with a token's iat, and the code and
 * refresh grants with when the code or family was created.
 */
import type { JWTPayload } from 'jose';
import { AlreadyExistsError, grantKey, grantTagOfJti, issuedBeforeRevocation, subjectKey, type EpochMs, type Revocation } from '../storage/storage.js';
import { subjectOf } from './claims.js';
import { issuerUrl, type IssuerContext } from './context.js';
import { grantTag } from './token/refresh-family.js';

export type RevocationReason =
  | 'code_reused' | 'device_code_reused' | 'refresh_token_reused' | 'upstream_refresh_failed' | 'revoked_by_client' | 'revoked_by_admin'
  | 'consent_withdrawn';

/** What revoking needs of the issuer; the sessions CLI provides it without a running issuer. */
export type RevocationDeps = Pick<IssuerContext, 'storage' | 'config' | 'audit' | 'now'>;

/** The longest lifetime of a token we issue: how long a revocation must be remembered. */
export function longestTokenLifetime(ctx: Pick<IssuerContext, 'config'>): number {
  return Math.max(ctx.config.expiry.idTokens, ctx.config.expiry.accessTokens);
}

/** Writes a revocation; one already there (revoked before, or by a concurrent request) is kept. */
async function writeRevocation(ctx: RevocationDeps, record: Revocation): Promise<void> {
  try {
    await ctx.storage.revocations.create(record);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
}

/** Denies every token carrying `sid` until the longest of them has expired. */
export async function revokeSid(ctx: RevocationDeps, sid: string, userId: string | undefined): Promise<void> {
  const now = ctx.now();
  await writeRevocation(ctx, { id: `sid:${sid}`, kind: 'sid', value: sid, userId, createdAt: now, expiresAt: now + longestTokenLifetime(ctx) });
}

/** Denies every access token the family `familyId` issued, until the last of them can have expired. */
async function revokeGrant(ctx: RevocationDeps, familyId: string, userId: string | undefined): Promise<void> {
  const now = ctx.now();
  const value = grantKey(issuerUrl(ctx.config), grantTag(familyId));
  await writeRevocation(ctx, { id: `grant:${value}`, kind: 'grant', value, userId, createdAt: now, expiresAt: now + ctx.config.expiry.accessTokens });
}

/** Denies each access token of a pre-2026-12 family's list by its jti until its own expiry (those already expired need nothing). */
async function revokeAccessTokens(ctx: RevocationDeps, tokens: ReadonlyArray<{ jti: string; expiresAt: EpochMs }>, userId: string | undefined): Promise<void> {
  const now = ctx.now();
  for (const token of tokens.filter((entry) => entry.expiresAt > now)) {
    await writeRevocation(ctx, { id: `jti:${token.jti}`, kind: 'jti', value: token.jti, userId, createdAt: now, expiresAt: token.expiresAt });
  }
}

/** Revokes the refresh-token family `session.sessionId` and what it issued (see the top of this file). */
export async function revokeSession(
  ctx: RevocationDeps,
  session: { sessionId: string; userId?: string; clientId: string },
  reason: RevocationReason,
): Promise<void> {
  const family = await ctx.storage.refreshTokens.take(session.sessionId);
  if (family?.sessionId !== undefined) {
    await revokeGrant(ctx, family.id, session.userId);
    await revokeAccessTokens(ctx, family.accessTokens ?? [], session.userId);
    ctx.audit.write({ event: 'session_revoked', outcome: 'succeeded', reason, sid: family.sessionId, familyId: family.id, clientId: session.clientId, userId: session.userId });
    return;
  }
  await revokeSid(ctx, session.sessionId, session.userId);
  ctx.audit.write({ event: 'session_revoked', outcome: 'succeeded', reason, sid: session.sessionId, clientId: session.clientId, userId: session.userId });
}

/** Revokes every token of the user at this connector issued up to now; returns the revoked `sub`. */
export async function revokeSubject(
  ctx: RevocationDeps,
  subject: { userId: string; connectorId: string },
  reason: RevocationReason,
): Promise<string> {
  const now = ctx.now();
  const sub = subjectOf(subject.userId, subject.connectorId);
  const value = subjectKey(issuerUrl(ctx.config), sub);
  const record = { id: `sub:${value}`, kind: 'sub' as const, value, userId: subject.userId, createdAt: now, expiresAt: now + longestTokenLifetime(ctx) };
  try {
    await ctx.storage.revocations.create(record);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    // Revoked before: move the instant (and the memory of it) forward; feeds deliver the update.
    await ctx.storage.revocations.update(record.id, (current) => ({ ...current, createdAt: Math.max(current.createdAt, now), expiresAt: Math.max(current.expiresAt, record.expiresAt) }));
  }
  ctx.audit.write({ event: 'subject_revoked', outcome: 'succeeded', reason, subject: sub, connectorId: subject.connectorId, userId: subject.userId });
  return sub;
}

/**
 * True if the subject was revoked at or after `since`: a token whose iat is `since` (seconds, from a
 * JWT) or a code or refresh family created at `since` (milliseconds, `sinceMs`) is no longer good.
 */
export async function isSubjectRevoked(
  ctx: Pick<IssuerContext, 'storage' | 'issuer'>,
  sub: string,
  since: { iat: unknown } | { sinceMs: number },
): Promise<boolean> {
  const revocation = await ctx.storage.revocations.get(`sub:${subjectKey(ctx.issuer, sub)}`);
  if (!revocation) return false;
  return 'sinceMs' in since ? since.sinceMs <= revocation.createdAt : issuedBeforeRevocation(since.iat, revocation.createdAt);
}

export async function isSessionRevoked(ctx: Pick<IssuerContext, 'storage'>, sessionId: string): Promise<boolean> {
  return (await ctx.storage.revocations.get(`sid:${sessionId}`)) !== undefined;
}

/** An access token revoked by itself (RFC 7009), remembered until its exp. */
export async function isTokenRevoked(ctx: Pick<IssuerContext, 'storage'>, jti: string): Promise<boolean> {
  return (await ctx.storage.revocations.get(`jti:${jti}`)) !== undefined;
}

/** An access token of a refresh-token family that was revoked (its jti has the family's grant tag). */
export async function isGrantRevoked(ctx: Pick<IssuerContext, 'storage' | 'issuer'>, jti: string): Promise<boolean> {
  const tag = grantTagOfJti(jti);
  return tag !== undefined && (await ctx.storage.revocations.get(`grant:${grantKey(ctx.issuer, tag)}`)) !== undefined;
}

/** A verified token of ours that is no longer good: its session, itself (jti), its family or its subject was revoked since it was issued. */
export async function isIssuedTokenRevoked(ctx: Pick<IssuerContext, 'storage' | 'issuer'>, payload: JWTPayload): Promise<boolean> {
  return (
    (typeof payload.sid === 'string' && (await isSessionRevoked(ctx, payload.sid))) ||
    (typeof payload.jti === 'string' && ((await isTokenRevoked(ctx, payload.jti)) || (await isGrantRevoked(ctx, payload.jti)))) ||
    (typeof payload.sub === 'string' && (await isSubjectRevoked(ctx, payload.sub, { iat: payload.iat })))
  );
}
