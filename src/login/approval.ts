/**
 * The approval (consent) step, /approval: GET shows what the client asks for; POST (CSRF-checked)
 * either issues the code (and tokens) or, on deny, ends the request with access_denied at the client.
 * Both only for the browser that started the login. An approval is remembered for the person and the
 * client (sessions/consent.ts), except a device's: that one is asked every time.
 */
import type { Context } from 'koa';
import { readForm, readQuery } from '../http/form.js';
import { subjectOf } from '../oidc/claims.js';
import type { AuthRequest } from '../storage/storage.js';
import { assertCsrf } from './csrf.js';
import { LoginError } from './errors.js';
import { loadOwnAuthRequest } from './browser-binding.js';
import { denyRequest, isDeviceLogin, issueAuthorization } from './flow.js';
import { rememberConsent } from '../sessions/consent.js';
import { sendNextStep, type LoginDeps } from './handler.js';
import { secondFactorStep } from './mfa-gate.js';
import { sendPage } from './page.js';
import { approvalPage } from './pages/approval.js';

function assertLoggedIn(authRequest: AuthRequest): asserts authRequest is AuthRequest & { identity: NonNullable<AuthRequest['identity']> } {
  if (!authRequest.loggedIn || !authRequest.identity) {
    throw new LoginError('not_logged_in', 400, 'Not signed in', 'Sign in first: this request has no signed-in user yet.');
  }
}

export async function handleApprovalPage(ctx: Context, deps: LoginDeps): Promise<void> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, readQuery(ctx).req);
  assertLoggedIn(authRequest);
  // Consent comes after the second factor: a page opened before it sends the browser there.
  const secondFactor = await secondFactorStep(deps.issuer, authRequest);
  if (secondFactor) return sendNextStep(ctx, deps, secondFactor);
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
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, form.req);
  assertCsrf(authRequest, form);
  assertLoggedIn(authRequest);
  if (form.approval === 'approve') {
    const step = await issueAuthorization(deps.issuer, authRequest.id);
    const { identity, connectorId, clientId } = authRequest;
    const remembered = connectorId !== undefined && !isDeviceLogin(deps.issuer, authRequest);
    if (remembered) {
      const who = { subject: subjectOf(identity.userId, connectorId), userId: identity.userId, connectorId, clientId };
      await rememberConsent(deps.issuer.storage, who, authRequest.scopes, deps.issuer.now());
    }
    recordConsent(deps, authRequest, true, remembered);
    return sendNextStep(ctx, deps, step);
  }
  let response: Awaited<ReturnType<typeof denyRequest>>;
  try {
    response = await denyRequest(deps.issuer, authRequest.id, 'the user denied the request');
  } catch (error) {
    // An out-of-band client has no redirect: the denial is shown as a page, and is still a denial.
    if (error instanceof LoginError && error.code === 'access_denied') recordConsent(deps, authRequest, false);
    throw error;
  }
  recordConsent(deps, authRequest, false);
  sendNextStep(ctx, deps, response);
}

/** Written once the auth request was taken, so a second submit of the same form is not counted twice. */
function recordConsent(deps: LoginDeps, authRequest: AuthRequest & { identity: NonNullable<AuthRequest['identity']> }, approved: boolean, remembered = false): void {
  const connectorId = authRequest.connectorId;
  deps.issuer.audit.write({
    event: approved ? 'consent_given' : 'consent_denied',
    outcome: approved ? 'succeeded' : 'refused',
    reason: approved ? undefined : 'access_denied',
    clientId: authRequest.clientId,
    connectorId,
    subject: connectorId ? subjectOf(authRequest.identity.userId, connectorId) : undefined,
    scopes: authRequest.scopes,
    ...(approved ? { remembered } : {}),
  });
}
