/**
 * The person's account page, /account, behind the browser's login session: what the session is, and
 * the consents remembered for the person, which POST /account/consents withdraws (CSRF token bound to
 * the session cookie). Withdrawing also revokes that client's refresh tokens of the person, so the
 * client loses the access it was given, not just the right to skip the approval page.
 */
import type { Context } from 'koa';
import { readForm } from '../http/form.js';
import { subjectOf } from '../oidc/claims.js';
import { revokeSession } from '../oidc/revocation.js';
import { listConsents, withdrawConsent } from '../sessions/consent.js';
import { currentSession, sessionFormToken, sessionFormTokenMatches } from '../sessions/session-cookie.js';
import { csrfFailure } from './errors.js';
import { redirect, type LoginDeps } from './handler.js';
import { sendPage } from './page.js';
import { accountPage, notSignedInPage } from './pages/account.js';

const iso = (ms: number) => new Date(ms).toISOString();

export async function handleAccountPage(ctx: Context, deps: LoginDeps): Promise<void> {
  const browser = await currentSession(ctx, deps.issuer);
  if (!browser) return sendPage(ctx, deps.theme, 200, notSignedInPage());
  const { session } = browser;
  const { storage, connectors } = deps.issuer;
  const nameOf = async (clientId: string) => {
    const client = await storage.clients.get(clientId);
    return client?.name || clientId;
  };
  const consents = await listConsents(storage, subjectOf(session.identity.userId, session.connectorId));
  sendPage(ctx, deps.theme, 200, accountPage({
    basePath: deps.issuer.basePath,
    csrfToken: sessionFormToken(browser.cookie),
    signedInAs: session.identity.email ?? session.identity.username,
    connectorName: connectors.get(session.connectorId)?.name ?? session.connectorId,
    signedInAt: iso(session.authTime * 1000),
    endsBy: iso(session.expiresAt),
    applications: await Promise.all(session.clients.map((entry) => nameOf(entry.clientId))),
    consents: await Promise.all(consents.map(async (consent) => ({
      clientId: consent.clientId, clientName: await nameOf(consent.clientId), scopes: consent.scopes, givenAt: iso(consent.updatedAt),
    }))),
  }));
}

export async function handleWithdrawConsent(ctx: Context, deps: LoginDeps): Promise<void> {
  const form = await readForm(ctx);
  const browser = await currentSession(ctx, deps.issuer);
  if (!browser) return sendPage(ctx, deps.theme, 200, notSignedInPage());
  if (!sessionFormTokenMatches(browser.cookie, form.csrf_token)) throw csrfFailure();
  const { identity, connectorId } = browser.session;
  const subject = subjectOf(identity.userId, connectorId);
  const clientId = form.client_id ?? '';
  const withdrawn = await withdrawConsent(deps.issuer.storage, subject, clientId);
  const families = (await deps.issuer.storage.refreshTokens.list({ index: identity.userId }))
    .filter((family) => family.clientId === clientId && family.connectorId === connectorId);
  for (const family of families) {
    await revokeSession(deps.issuer, { sessionId: family.id, userId: identity.userId, clientId }, 'consent_withdrawn');
  }
  deps.issuer.audit.write({
    event: 'consent_withdrawn', outcome: withdrawn ? 'succeeded' : 'ignored', ...(withdrawn ? {} : { reason: 'not_found' }),
    clientId, connectorId, subject, scopes: withdrawn?.scopes, refreshTokensRevoked: families.length,
  });
  redirect(ctx, `${deps.issuer.basePath}/account`, 303);
}
