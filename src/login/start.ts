/**
 * Where a login starts. /auth runs the authorization checks, stores the request bound to this
 * browser (browser-binding.ts) and, when the browser's login session answers it, continues with that
 * (single sign-on); else it shows the connector chooser (offering the session there for
 * prompt=select_account) or goes straight to the one connector. /auth/{connector} starts that
 * connector: the password form, a redirect to the upstream, or the SAML POST to the IdP.
 */
import type { Context } from 'koa';
import { readForm, readQuery } from '../http/form.js';
import { allowedConnectors, loginGrantType } from '../oidc/authorize/check_connector.js';
import { authorize } from '../oidc/authorize/index.js';
import type { OAuthError } from '../oidc/errors.js';
import { callConnector, LoginError } from './errors.js';
import { bindBrowser, loadOwnAuthRequest } from './browser-binding.js';
import { connectorScopes, startConnectorLogin } from './flow.js';
import { connectorFor, redirect, sendNextStep, type LoginDeps } from './handler.js';
import { continueWithSession } from './session-login.js';
import { currentSession } from '../sessions/session-cookie.js';
import { sendPage } from './page.js';
import { chooserPage } from './pages/chooser.js';
import { samlPostPage } from './pages/saml-post.js';
import { describeWait } from './throttle.js';

export async function handleAuthorize(ctx: Context, deps: LoginDeps): Promise<void> {
  const params = ctx.method === 'POST' ? await readForm(ctx) : readQuery(ctx);
  if (params.req !== undefined && params.client_id === undefined) {
    return params.session === 'continue' ? continueWithOfferedSession(ctx, deps, params.req) : showChooserAgain(ctx, deps, params.req);
  }
  // Each request waits in storage for its login: a client IP may store only so many (login.authRequests).
  const limitKeys = [`auth-requests:ip:${deps.clientIP(ctx)}`];
  const limited = await deps.authRequestLimit.lockedFor(limitKeys);
  if (limited > 0) {
    throw new LoginError('too_many_requests', 429, 'Too many sign-in requests', `Too many sign-ins were started from your network; try again in ${describeWait(limited)}.`);
  }
  const browser = await currentSession(ctx, deps.issuer);
  const outcome = await authorize(deps.issuer, params, { hash: bindBrowser(ctx, deps.issuer), ...(browser ? { session: browser.session } : {}) });
  if (outcome.kind === 'error_page') throw unvalidatedRequest(outcome.error);
  if (outcome.kind === 'error_response') return sendNextStep(ctx, deps, outcome.response);

  const { authRequest, session } = outcome;
  await deps.authRequestLimit.fail(limitKeys);
  if (session && !session.offered) return sendNextStep(ctx, deps, await continueWithSession(deps, authRequest, session.value));
  if (!session && outcome.connectorId) return redirect(ctx, connectorStartURL(deps, outcome.connectorId, authRequest.id));
  sendPage(ctx, deps.theme, 200, chooserPage({
    basePath: deps.issuer.basePath,
    clientName: outcome.client.name || outcome.client.id,
    authRequestId: authRequest.id,
    connectors: outcome.connectors,
    ...(session ? { signedInAs: session.value.identity.email ?? session.value.identity.username } : {}),
  }));
}

/** "Continue as …" on the chooser: the session offered (the auth request names it), if it is still this browser's. */
async function continueWithOfferedSession(ctx: Context, deps: LoginDeps, authRequestId: string): Promise<void> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, authRequestId);
  const browser = await currentSession(ctx, deps.issuer);
  if (authRequest.loggedIn || !browser || browser.session.id !== authRequest.sessionId) {
    throw new LoginError('session_ended', 400, 'You were signed out', 'The sign-in you chose is no longer there. Choose a sign-in method to continue.');
  }
  sendNextStep(ctx, deps, await continueWithSession(deps, authRequest, browser.session));
}

/** "Use another sign-in method": the chooser for a request already under way. */
async function showChooserAgain(ctx: Context, deps: LoginDeps, authRequestId: string): Promise<void> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, authRequestId);
  const client = await deps.issuer.storage.clients.get(authRequest.clientId);
  sendPage(ctx, deps.theme, 200, chooserPage({
    basePath: deps.issuer.basePath,
    clientName: client?.name || authRequest.clientId,
    authRequestId: authRequest.id,
    connectors: allowedConnectors(deps.issuer, client, loginGrantType(deps.issuer, authRequest)),
  }));
}

/** Before the client and redirect URI are known good, an error can only be shown, never sent back. */
function unvalidatedRequest(error: OAuthError): LoginError {
  const title = error.code === 'invalid_client' ? 'Unknown application' : 'Invalid sign-in request';
  return new LoginError('bad_request', 400, title, `The application sent an invalid sign-in request: ${error.description}.`);
}

export function connectorStartURL(deps: LoginDeps, connectorId: string, authRequestId: string): string {
  return `${deps.issuer.basePath}/auth/${encodeURIComponent(connectorId)}?req=${encodeURIComponent(authRequestId)}`;
}

export async function handleConnectorStart(ctx: Context, deps: LoginDeps): Promise<void> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, readQuery(ctx).req);
  const open = await connectorFor(deps, authRequest, ctx.params.connector);
  const { basePath, issuer } = deps.issuer;
  const connector = open.connector;
  const scopes = connectorScopes(authRequest, connector, await deps.issuer.storage.clients.get(authRequest.clientId));

  switch (connector.kind) {
    case 'password': {
      await startConnectorLogin(deps.issuer, authRequest.id, open.id);
      return redirect(ctx, `${basePath}/auth/${encodeURIComponent(open.id)}/login?req=${encodeURIComponent(authRequest.id)}`);
    }
    case 'callback': {
      const callbackURL = `${issuer}/callback/${encodeURIComponent(open.id)}`;
      const { url, connectorData } = await callConnector(open.name, () => connector.loginURL(scopes, callbackURL, authRequest.id));
      await startConnectorLogin(deps.issuer, authRequest.id, open.id, connectorData);
      return redirect(ctx, url);
    }
    case 'saml': {
      const post = await callConnector(open.name, () => connector.postData(scopes, authRequest.id));
      await startConnectorLogin(deps.issuer, authRequest.id, open.id);
      sendPage(ctx, deps.theme, 200, samlPostPage({
        ssoURL: post.ssoURL, samlRequest: post.samlRequest, relayState: authRequest.id, connectorName: open.name,
      }));
      return;
    }
  }
}
