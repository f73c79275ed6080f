/**
 * The approval (consent) step, /approval: GET shows what the client asks for; POST (CSRF-checked)
 * either issues the code or, on deny, ends the request with access_denied at the client.
 */
import type { Context } from 'koa';
import { readForm, readQuery } from '../http/form.js';
import type { AuthRequest } from '../storage/storage.js';
import { assertCsrf } from './csrf.js';
import { LoginError } from './errors.js';
import { denyRequest, issueCode, loadAuthRequest } from './flow.js';
import { redirect, sendNextStep, type LoginDeps } from './handler.js';
import { sendPage } from './page.js';
import { approvalPage } from './pages/approval.js';

function assertLoggedIn(authRequest: AuthRequest): asserts authRequest is AuthRequest & { identity: NonNullable<AuthRequest['identity']> } {
  if (!authRequest.loggedIn || !authRequest.identity) {
    throw new LoginError('not_logged_in', 400, 'Not signed in', 'Sign in first: this request has no signed-in user yet.');
  }
}

export async function handleApprovalPage(ctx: Context, deps: LoginDeps): Promise<void> {
  const authRequest = await loadAuthRequest(deps.issuer, readQuery(ctx).req);
  assertLoggedIn(authRequest);
  const client = await deps.issuer.storage.clients.get(authRequest.clientId);
  sendPage(ctx, deps.theme, 200, approvalPage({
    basePath: deps.issuer.basePath,
    clientName: client?.name || authRequest.clientId,
    username: authRequest.identity.email ?? authRequest.identity.username,
    scopes: authRequest.scopes,
    authRequestId: authRequest.id,
    csrfToken: authRequest.csrfToken,
    redirectURI: authRequest.redirectURI,
  }));
}

export async function handleApproval(ctx: Context, deps: LoginDeps): Promise<void> {
  const form = await readForm(ctx);
  const authRequest = await loadAuthRequest(deps.issuer, form.req);
  assertCsrf(authRequest, form);
  assertLoggedIn(authRequest);
  if (form.approval === 'approve') return sendNextStep(ctx, deps, await issueCode(deps.issuer, authRequest.id));
  redirect(ctx, await denyRequest(deps.issuer, authRequest.id, 'the user denied the request'));
}
