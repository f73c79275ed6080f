/**
 * Where a login meets the browser's login session (src/sessions/). A login at a connector starts the
 * browser's session, or renews it when that session is the same person's (a new authentication:
 * auth_time and methods change, the `sid` stays). A login as someone else first ends the session the
 * browser had, everywhere (its tokens revoked, its clients told), since one browser holds one session.
 * A request the session answers takes its login from it (single sign-on). A device's login leaves the
 * session alone: the device is a session of its own.
 */
import type { Context } from 'koa';
import type { Identity } from '../connector.js';
import { subjectOf } from '../oidc/claims.js';
import type { OpenConnector } from '../oidc/context.js';
import { endLoginSession } from '../sessions/end-session.js';
import { isSamePerson, newLoginSession, reauthenticated, sessionPolicy, type SessionLogin } from '../sessions/login-session.js';
import { currentSession, sessionIdOf, setSessionCookie } from '../sessions/session-cookie.js';
import { NotFoundError, type AuthRequest, type LoginSession } from '../storage/storage.js';
import { completeLogin, connectorLogin, connectorScopes, isDeviceLogin, sessionLogin, type NextStep } from './flow.js';
import type { LoginDeps } from './handler.js';

/** The person authenticated at `open`: the login goes on the request, in the browser's session. */
export async function finishConnectorLogin(ctx: Context, deps: LoginDeps, authRequest: AuthRequest, open: OpenConnector, identity: Identity): Promise<NextStep> {
  const login = connectorLogin(deps.issuer, open.id, identity);
  if (isDeviceLogin(deps.issuer, authRequest)) return completeLogin(deps.issuer, authRequest.id, login);
  const client = await deps.issuer.storage.clients.get(authRequest.clientId);
  const session = await startOrRenewSession(ctx, deps, authRequest.clientId, { ...login, connectorScopes: connectorScopes(authRequest, open.connector, client) });
  return completeLogin(deps.issuer, authRequest.id, { ...login, sessionId: session.id });
}

async function startOrRenewSession(ctx: Context, deps: LoginDeps, clientId: string, login: SessionLogin): Promise<LoginSession> {
  const { issuer } = deps;
  const now = issuer.now();
  const policy = sessionPolicy(issuer.config);
  const current = await currentSession(ctx, issuer);
  const audit = { clientId, userId: login.identity.userId, connectorId: login.connectorId, subject: subjectOf(login.identity.userId, login.connectorId), amr: login.amr };
  if (current && isSamePerson(current.session, login.connectorId, login.identity.userId)) {
    try {
      const renewed = await issuer.storage.loginSessions.update(current.session.id, (session) => reauthenticated(session, login, now, policy));
      issuer.audit.write({ event: 'session_reauthenticated', outcome: 'succeeded', ...audit, sid: renewed.id });
      return renewed;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error; // ended meanwhile (logout elsewhere): a new one starts
    }
  } else if (current) {
    await endLoginSession(issuer, { sessionId: current.session.id }, 'replaced');
  }
  const session = newLoginSession(sessionIdOf(setSessionCookie(ctx, issuer)), login, now, policy);
  await issuer.storage.loginSessions.create(session);
  issuer.audit.write({ event: 'session_created', outcome: 'succeeded', ...audit, sid: session.id });
  return session;
}

/** The browser's session answers the request (check_login_session): its login goes on the request. */
export async function continueWithSession(deps: LoginDeps, authRequest: AuthRequest, session: LoginSession): Promise<NextStep> {
  deps.issuer.audit.write({
    event: 'session_used', outcome: 'succeeded', clientId: authRequest.clientId, sid: session.id, userId: session.identity.userId,
    connectorId: session.connectorId, subject: subjectOf(session.identity.userId, session.connectorId),
  });
  return completeLogin(deps.issuer, authRequest.id, sessionLogin(session));
}
