/**
 * Revoking a session: its refresh-token family is deleted and a `sid:<sessionId>` revocation record is
 * written until every token issued in it has expired, so /userinfo (and filters, which receive
 * revocations) refuse its access tokens too. Used on code reuse, refresh-token reuse and failed
 * upstream refresh, and by the revocation endpoint (RFC 7009) and the sessions CLI.
 */
import { AlreadyExistsError } from '../storage/storage.js';
import type { IssuerContext } from './context.js';

export type RevocationReason =
  | 'code_reused' | 'refresh_token_reused' | 'upstream_refresh_failed' | 'revoked_by_client' | 'revoked_by_admin';

/** What revoking needs of the issuer; the sessions CLI provides it without a running issuer. */
export type RevocationDeps = Pick<IssuerContext, 'storage' | 'config' | 'audit' | 'now'>;

/** The longest lifetime of a token we issue: how long a revocation must be remembered. */
export function longestTokenLifetime(ctx: Pick<IssuerContext, 'config'>): number {
  return Math.max(ctx.config.expiry.idTokens, ctx.config.expiry.accessTokens);
}

export async function revokeSession(
  ctx: RevocationDeps,
  session: { sessionId: string; userId?: string; clientId: string },
  reason: RevocationReason,
): Promise<void> {
  const now = ctx.now();
  await ctx.storage.refreshTokens.delete(session.sessionId);
  try {
    await ctx.storage.revocations.create({
      id: `sid:${session.sessionId}`,
      kind: 'sid',
      value: session.sessionId,
      userId: session.userId,
      createdAt: now,
      expiresAt: now + longestTokenLifetime(ctx),
    });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  ctx.audit.write({ event: 'session_revoked', reason, sid: session.sessionId, clientId: session.clientId, userId: session.userId });
}

export async function isSessionRevoked(ctx: IssuerContext, sessionId: string): Promise<boolean> {
  return (await ctx.storage.revocations.get(`sid:${sessionId}`)) !== undefined;
}

/** An access token revoked by itself (RFC 7009), remembered until its exp. */
export async function isTokenRevoked(ctx: Pick<IssuerContext, 'storage'>, jti: string): Promise<boolean> {
  return (await ctx.storage.revocations.get(`jti:${jti}`)) !== undefined;
}
