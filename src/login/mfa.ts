/**
 * The second factor of a login (/mfa), after the first factor and before consent. GET /mfa looks at
 * the next step the rules ask for (mfa-gate.ts) and sends the browser to the authenticator that
 * passes it: the one a chain names, or for an acr the one the person has enrolled (a passkey before
 * an app), or, when they have none, the page to set one up. Every page and form is for the browser
 * that started the login only; a passed step is written on the auth request (and the browser's login
 * session, so another client asking for it later does not ask again) with its RFC 8176 method.
 * Failures count against the person in the login throttle, so six digits cannot be guessed.
 */
import type { Context } from 'koa';
import { readForm, readQuery } from '../http/form.js';
import { subjectOf } from '../oidc/claims.js';
import { addAuthenticationMethod } from '../sessions/login-session.js';
import { amrWithSecondFactor } from '../sessions/mfa/acr.js';
import type { MFAAuthenticator } from '../sessions/mfa/config.js';
import { enrolledWith, loadCredentials, type MFAUser } from '../sessions/mfa/credentials.js';
import type { MFAError, MFAErrorCode } from '../sessions/mfa/errors.js';
import type { MFAStep } from '../sessions/mfa/policy.js';
import { NotFoundError, type AuthRequest, type MFACredentials, type StoredIdentity } from '../storage/storage.js';
import { loadOwnAuthRequest } from './browser-binding.js';
import { assertCsrf } from './csrf.js';
import { LoginError } from './errors.js';
import { continueAfterLogin } from './flow.js';
import { redirect, sendNextStep, type LoginDeps } from './handler.js';
import { acrOf, mfaStepOf, secondFactorStep } from './mfa-gate.js';
import { sendPage } from './page.js';
import { mfaChoicePage, type MFAAlternative, type MFAPageContext } from './pages/mfa.js';
import { describeWait } from './throttle.js';

/** A logged-in request at a second-factor step, with the person's credentials. */
export interface MFARequest {
  authRequest: AuthRequest & { identity: StoredIdentity; connectorId: string };
  user: MFAUser;
  subject: string;
  step: Exclude<MFAStep, { kind: 'unmet' }>;
  credentials: MFACredentials | undefined;
}

export type MFAMethod = 'totp' | 'webauthn' | 'recovery_code';

/** The request `id` names, for this browser, at a step; undefined when no step is left (or it cannot be met). */
export async function loadMFARequest(ctx: Context, deps: LoginDeps, id: string | undefined): Promise<MFARequest | undefined> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, id);
  const { identity, connectorId } = authRequest;
  if (!authRequest.loggedIn || !identity || !connectorId) {
    throw new LoginError('not_logged_in', 400, 'Not signed in', 'Sign in first: this request has no signed-in user yet.');
  }
  const step = await mfaStepOf(deps.issuer, authRequest);
  if (!step || step.kind === 'unmet') return undefined;
  const user = { connectorId, userId: identity.userId };
  return {
    authRequest: { ...authRequest, identity, connectorId }, user, subject: subjectOf(user.userId, connectorId), step,
    credentials: await loadCredentials(deps.issuer.storage, user),
  };
}

/**
 * The request a step's page (GET, its query) or form (POST, CSRF-checked) names, with the parameters;
 * undefined when no step is left (a reload, a second submit): the browser has then been sent on.
 */
export async function openMFAStep(ctx: Context, deps: LoginDeps): Promise<{ params: Record<string, string>; request: MFARequest } | undefined> {
  const posted = ctx.method === 'POST';
  const params = posted ? await readForm(ctx) : readQuery(ctx);
  const request = await loadMFARequest(ctx, deps, params.req);
  if (!request) {
    await continueLogin(ctx, deps, params.req!);
    return undefined;
  }
  if (posted) assertCsrf(request.authRequest, params);
  return { params, request };
}

/** Where the login goes once no step is left: the next step, consent, or the client. */
export async function continueLogin(ctx: Context, deps: LoginDeps, authRequestId: string): Promise<void> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, authRequestId);
  sendNextStep(ctx, deps, (await secondFactorStep(deps.issuer, authRequest)) ?? (await continueAfterLogin(deps.issuer, authRequest)));
}

/** The step's authenticator named `id`; any other is refused (a chain names one, an acr its candidates). */
export function authenticatorOf(step: MFARequest['step'], id: string | undefined, type: MFAAuthenticator['type']): MFAAuthenticator {
  const candidates = step.kind === 'authenticator' ? [step.authenticator] : step.authenticators;
  const found = candidates.find((authenticator) => authenticator.id === id && authenticator.type === type);
  if (!found) throw new LoginError('bad_request', 400, 'This method cannot be used here', 'This sign-in step asks for another way to verify. Go back and choose again.');
  return found;
}

export function pageContext(deps: LoginDeps, request: MFARequest, clientName: string): MFAPageContext {
  const { authRequest } = request;
  return { basePath: deps.issuer.basePath, clientName, authRequestId: authRequest.id, csrfToken: authRequest.csrfToken, redirectURI: authRequest.redirectURI };
}

export async function clientNameOf(deps: LoginDeps, request: MFARequest): Promise<string> {
  const client = await deps.issuer.storage.clients.get(request.authRequest.clientId);
  return client?.name || request.authRequest.clientId;
}

function pagePath(authenticator: MFAAuthenticator): string {
  return authenticator.type === 'WebAuthn' ? 'webauthn' : 'totp';
}

export function authenticatorURL(deps: LoginDeps, request: MFARequest, authenticator: MFAAuthenticator): string {
  const query = `req=${encodeURIComponent(request.authRequest.id)}&authenticator=${encodeURIComponent(authenticator.id)}`;
  return `${deps.issuer.basePath}/mfa/${pagePath(authenticator)}?${query}`;
}

function isEnrolled(request: MFARequest, authenticator: MFAAuthenticator): boolean {
  const enrolled = enrolledWith(request.credentials, authenticator.id);
  return authenticator.type === 'TOTP' ? enrolled.totp !== undefined : enrolled.webauthn.length > 0;
}

/** A recovery code passes a chain step of any kind and an mfa level, never a phishing-resistant one. */
function recoveryPasses(request: MFARequest): boolean {
  return (request.credentials?.recoveryCodeHashes.length ?? 0) > 0 && (request.step.kind === 'authenticator' || request.step.acr !== 'phr');
}

/** The other ways to pass this step than `current`: enrolled authenticators of the step, and a recovery code. */
export function alternativesTo(deps: LoginDeps, request: MFARequest, current: MFAAuthenticator | 'recovery'): MFAAlternative[] {
  const others = request.step.kind === 'level' ? request.step.authenticators.filter((a) => a !== current && isEnrolled(request, a)) : [];
  const links = others.map((a) => ({ label: a.type === 'WebAuthn' ? 'Use a passkey instead' : 'Use your authenticator app instead', href: authenticatorURL(deps, request, a) }));
  if (current !== 'recovery' && recoveryPasses(request)) {
    const authenticator = current.id;
    const query = `req=${encodeURIComponent(request.authRequest.id)}&authenticator=${encodeURIComponent(authenticator)}`;
    links.push({ label: 'Use a recovery code', href: `${deps.issuer.basePath}/mfa/recovery?${query}` });
  }
  return links;
}

/** GET /mfa?req=…: on to the authenticator of the next step, the choice of what to set up, or past MFA. */
export async function handleMFA(ctx: Context, deps: LoginDeps): Promise<void> {
  const id = readQuery(ctx).req;
  const request = await loadMFARequest(ctx, deps, id);
  if (!request) return continueLogin(ctx, deps, id!);
  const { step } = request;
  if (step.kind === 'authenticator') return redirect(ctx, authenticatorURL(deps, request, step.authenticator));
  const enrolled = [...step.authenticators].sort((a, b) => (a.type === b.type ? 0 : a.type === 'WebAuthn' ? -1 : 1)).find((a) => isEnrolled(request, a));
  if (enrolled) return redirect(ctx, authenticatorURL(deps, request, enrolled));
  if (step.authenticators.length === 1) return redirect(ctx, authenticatorURL(deps, request, step.authenticators[0]!));
  const choices = step.authenticators.map((a) => ({
    label: a.type === 'WebAuthn' ? 'Create a passkey (this device or a security key)' : 'Use an authenticator app',
    href: authenticatorURL(deps, request, a),
  }));
  sendPage(ctx, deps.theme, 200, mfaChoicePage(pageContext(deps, request, await clientNameOf(deps, request)), choices));
}

const throttleKey = (request: MFARequest) => `mfa:${request.subject}`;

/** The wait, when this person has failed too often; the page says how long. */
export async function lockedMessage(deps: LoginDeps, request: MFARequest): Promise<string | undefined> {
  const locked = await deps.throttle.lockedFor([throttleKey(request)]);
  return locked > 0 ? `Too many failed attempts. Try again in ${describeWait(locked)}.` : undefined;
}

const FAILURE_WORDS: Record<MFAErrorCode, string> = {
  invalid_code: 'That code is not right. Check it and try again.',
  code_reused: 'That code was already used. Wait for the next code in your app.',
  challenge_mismatch: 'This passkey answer belongs to another sign-in. Try again.',
  unknown_credential: 'This passkey is not registered for your account.',
  invalid_assertion: 'The passkey could not be verified. Try again.',
  counter_regression: 'This passkey cannot be trusted (it may have been copied). Use another way, or ask your administrator.',
};

/** Counts and audits a refused factor; returns what the page tells the person. */
export async function recordFailure(deps: LoginDeps, request: MFARequest, method: MFAMethod, authenticatorId: string | undefined, error: MFAError): Promise<string> {
  const locked = await deps.throttle.fail([throttleKey(request)]);
  deps.issuer.audit.write({
    event: 'mfa_failed', outcome: 'refused', reason: error.code, detail: error.message, method, authenticatorId,
    clientId: request.authRequest.clientId, connectorId: request.user.connectorId, subject: request.subject,
  });
  return locked > 0 ? `Too many failed attempts. Try again in ${describeWait(locked)}.` : FAILURE_WORDS[error.code];
}

export function recordEnrollment(deps: LoginDeps, request: MFARequest, authenticator: MFAAuthenticator): void {
  deps.issuer.audit.write({
    event: 'mfa_enrolled', outcome: 'succeeded', method: authenticator.type === 'WebAuthn' ? 'webauthn' : 'totp', authenticatorId: authenticator.id,
    clientId: request.authRequest.clientId, connectorId: request.user.connectorId, subject: request.subject,
  });
}

/**
 * Writes a passed step: the authenticator (when one was named) among those passed, its method in
 * `amr`, the acr reached; the browser's login session, when the login has one, gets the methods too.
 */
export async function passStep(deps: LoginDeps, request: MFARequest, passed: { method: MFAMethod; amr: string; authenticatorId?: string }): Promise<void> {
  const { storage } = deps.issuer;
  let updated: AuthRequest;
  try {
    updated = await storage.authRequests.update(request.authRequest.id, (current) => {
      const amr = amrWithSecondFactor(current.amr, passed.amr);
      const done = current.mfa?.passed ?? [];
      return {
        ...current,
        amr,
        acr: acrOf(amr),
        mfa: { passed: passed.authenticatorId && !done.includes(passed.authenticatorId) ? [...done, passed.authenticatorId] : done },
      };
    });
  } catch (error) {
    if (error instanceof NotFoundError) throw new LoginError('already_completed', 400, 'This sign-in was already completed', 'This sign-in request was already used or has expired. Go back to the application and start again.');
    throw error;
  }
  if (updated.sessionId) await recordOnSession(deps, updated.sessionId, updated.amr ?? []);
  await deps.throttle.reset([throttleKey(request)]);
  deps.issuer.audit.write({
    event: 'mfa_used', outcome: 'succeeded', method: passed.method, authenticatorId: passed.authenticatorId,
    clientId: request.authRequest.clientId, connectorId: request.user.connectorId, subject: request.subject, acr: updated.acr,
  });
}

/** The session keeps what was passed, so step-up for the next client asks only for what is still missing. */
async function recordOnSession(deps: LoginDeps, sessionId: string, amr: readonly string[]): Promise<void> {
  try {
    for (const method of amr) await addAuthenticationMethod(deps.issuer.storage, sessionId, method);
  } catch (error) {
    // The session ended meanwhile (logout): this login still finishes; later ones start again.
    if (!(error instanceof NotFoundError)) throw error;
  }
}
