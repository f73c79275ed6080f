/**
 * Ending a login session, whatever ends it: logout (/logout), the sessions CLI, an authorization code
 * of the session presented twice, or a login as someone else in the same browser. The record is taken
 * (of two concurrent ends exactly one gets it, so the clients are told once), `sid:<id>` is revoked
 * until every token issued in the session has expired (filters learn it through their revocation feed;
 * /userinfo, introspection and refresh refuse its tokens on every replica), the refresh-token families
 * granted in it are deleted, and every client it signed in to is told over the back channel
 * (backchannel.ts) without the caller waiting.
 */
import { revokeSid, type RevocationDeps } from '../oidc/revocation.js';
import type { LoginSession } from '../storage/storage.js';
import type { Delivery, LogoutNotifier } from './backchannel.js';

/** Where RP-Initiated Logout ends a session (Dex's path; discovery's end_session_endpoint). */
export const LOGOUT_PATH = '/logout';

export type SessionEndReason = 'logout' | 'revoked_by_admin' | 'code_reused' | 'replaced';

export type EndSessionDeps = RevocationDeps & { backchannel: LogoutNotifier };

export interface EndedSession {
  /** The record as it was, or undefined when it had ended (or expired) already: then only the revocations were done. */
  session?: LoginSession;
  refreshTokensRevoked: number;
  /** The back-channel deliveries, under way; they resolve when every client was told or given up on. */
  deliveries: Promise<Delivery[]>;
}

/** Ends session `target.sessionId`; `target.userId` finds its refresh families when the record is gone. */
export async function endLoginSession(deps: EndSessionDeps, target: { sessionId: string; userId?: string }, reason: SessionEndReason): Promise<EndedSession> {
  const session = await deps.storage.loginSessions.take(target.sessionId);
  const userId = session?.identity.userId ?? target.userId;
  await revokeSid(deps, target.sessionId, userId);
  const families = userId === undefined ? [] : (await deps.storage.refreshTokens.list({ index: userId })).filter((family) => family.sessionId === target.sessionId);
  for (const family of families) await deps.storage.refreshTokens.delete(family.id);
  deps.audit.write({
    event: 'session_ended',
    outcome: 'succeeded',
    reason,
    sid: target.sessionId,
    userId,
    connectorId: session?.connectorId,
    clients: session?.clients.map((entry) => entry.clientId) ?? [],
    refreshTokensRevoked: families.length,
  });
  return { ...(session ? { session } : {}), refreshTokensRevoked: families.length, deliveries: session ? deps.backchannel.notify(session) : Promise.resolve([]) };
}
