/**
 * OpenID RP-Initiated Logout 1.0 at /logout (discovery's end_session_endpoint), GET or POST.
 * - `id_token_hint` (an ID token of ours, expired accepted) says which client asks and which session it
 *   believes is current; one that is not ours is refused with a page. `client_id`, when sent with a
 *   hint, must be among the hint's audience.
 * - `post_logout_redirect_uri` must equal one of that client's postLogoutRedirectURIs, so the client
 *   must be known (from the hint or client_id); `state` goes back with it. Anything else is a page,
 *   never a redirect to an unregistered place.
 * - The browser's session cookie, not the hint, decides what ends: a hint of this very session (its
 *   `sub`, and its `sid` when it carries one) ends it at once; without a hint, or with someone else's,
 *   the person is asked first, on a page whose form carries a token bound to the session cookie (CSRF).
 * Ending the session revokes its tokens and refresh tokens and tells its clients over the back channel
 * (sessions/end-session.ts) without waiting for them; the browser then goes back to the client, or
 * sees a "signed out" page. A client's cross-site POST carries no SameSite=Lax cookie: it is answered
 * with a 303 to the same request as a GET, a top-level navigation the cookie travels with.
 */
import type { Context } from 'koa';
import { readForm, readQuery } from '../http/form.js';
import { subjectOf } from '../oidc/claims.js';
import { verifyIdTokenHint, type IdTokenHint } from '../oidc/id-token-hint.js';
import { endLoginSession } from '../sessions/end-session.js';
import { clearSessionCookie, currentSession, sessionFormToken, sessionFormTokenMatches } from '../sessions/session-cookie.js';
import type { Client, LoginSession } from '../storage/storage.js';
import { csrfFailure, LoginError } from './errors.js';
import { redirect, type LoginDeps } from './handler.js';
import { sendPage } from './page.js';
import { logoutConfirmPage, signedOutPage } from './pages/logout.js';

interface LogoutRequest {
  hint?: IdTokenHint;
  client?: Client;
  postLogoutRedirectURI?: string;
  state?: string;
}

function badLogout(message: string): LoginError {
  return new LoginError('bad_request', 400, 'Invalid sign-out request', message);
}

async function readLogoutRequest(deps: LoginDeps, params: Record<string, string>): Promise<LogoutRequest> {
  const hint = params.id_token_hint === undefined ? undefined : await verifyIdTokenHint(deps.issuer, params.id_token_hint);
  if (params.id_token_hint !== undefined && !hint) throw badLogout('The application sent an id_token_hint that is not an ID token this server issued.');
  if (params.client_id !== undefined && hint && !hint.aud.includes(params.client_id)) throw badLogout('The id_token_hint was not issued to the client_id sent with it.');
  const clientId = params.client_id ?? hint?.clientId;
  const client = clientId === undefined ? undefined : await deps.issuer.storage.clients.get(clientId);
  if (clientId !== undefined && !client) throw badLogout('The application that asks to sign you out is not registered here.');
  const uri = params.post_logout_redirect_uri;
  if (uri !== undefined) {
    if (!client) throw badLogout('post_logout_redirect_uri needs an id_token_hint or a client_id to say which application it belongs to.');
    if (!(client.postLogoutRedirectURIs ?? []).includes(uri)) throw badLogout(`post_logout_redirect_uri is not registered for ${client.name || client.id}.`);
  }
  return {
    ...(hint ? { hint } : {}),
    ...(client ? { client } : {}),
    ...(uri !== undefined ? { postLogoutRedirectURI: uri } : {}),
    ...(params.state !== undefined ? { state: params.state } : {}),
  };
}

/** The hint describes the browser's session: the same person, and the same session when it names one. */
function hintMatches(hint: IdTokenHint | undefined, session: LoginSession): boolean {
  return hint !== undefined && hint.sub === subjectOf(session.identity.userId, session.connectorId) && (hint.sid === undefined || hint.sid === session.id);
}

export async function handleLogout(ctx: Context, deps: LoginDeps): Promise<void> {
  const isPost = ctx.method === 'POST';
  const params = isPost ? await readForm(ctx) : readQuery(ctx);
  const request = await readLogoutRequest(deps, params);
  const browser = await currentSession(ctx, deps.issuer);
  if (!browser && isPost && ctx.cookies.get(deps.issuer.config.sessions.cookieName) === undefined && params.csrf_token === undefined) {
    return redirect(ctx, `${deps.issuer.basePath}/logout?${new URLSearchParams(params)}`, 303);
  }
  if (!browser) return finish(ctx, deps, request, false);
  const vouched = hintMatches(request.hint, browser.session);
  if (!vouched) {
    if (!isPost || params.csrf_token === undefined) return confirm(ctx, deps, request, browser.session, browser.cookie);
    if (!sessionFormTokenMatches(browser.cookie, params.csrf_token)) throw csrfFailure();
  }
  const ended = await endLoginSession(deps.issuer, { sessionId: browser.session.id }, 'logout');
  clearSessionCookie(ctx, deps.issuer);
  deps.issuer.audit.write({
    event: 'logout', outcome: 'succeeded', clientId: request.client?.id, sid: browser.session.id, userId: browser.session.identity.userId,
    confirmed: !vouched, clientsTold: ended.session?.clients.map((entry) => entry.clientId) ?? [], returnsToClient: request.postLogoutRedirectURI !== undefined,
  });
  finish(ctx, deps, request, true);
}

function confirm(ctx: Context, deps: LoginDeps, request: LogoutRequest, session: LoginSession, cookie: string): void {
  sendPage(ctx, deps.theme, 200, logoutConfirmPage({
    basePath: deps.issuer.basePath,
    csrfToken: sessionFormToken(cookie),
    signedInAs: session.identity.email ?? session.identity.username,
    ...(request.client ? { clientName: request.client.name || request.client.id, clientId: request.client.id } : {}),
    ...(request.postLogoutRedirectURI !== undefined ? { postLogoutRedirectURI: request.postLogoutRedirectURI } : {}),
    ...(request.state !== undefined ? { state: request.state } : {}),
  }));
}

/** Back to the client's registered URI (with its state), or the "signed out" page. */
function finish(ctx: Context, deps: LoginDeps, request: LogoutRequest, wasSignedIn: boolean): void {
  if (request.postLogoutRedirectURI === undefined) return sendPage(ctx, deps.theme, 200, signedOutPage(wasSignedIn));
  const target = new URL(request.postLogoutRedirectURI);
  if (request.state !== undefined) target.searchParams.set('state', request.state);
  redirect(ctx, target.toString(), ctx.method === 'POST' ? 303 : 302);
}
