/**
 * The passkey step. GET /mfa/webauthn issues a challenge to this login (kept on the auth request) and
 * shows the page whose script runs the ceremony: an assertion with one of the person's credentials,
 * or, when they have none for this authenticator, the registration of a new one. POST takes the
 * challenge off the request first, so an answer is accepted at most once and only for the login it
 * was issued to, then verifies it (origin, RP ID, user verification as configured, signature) and,
 * for an assertion, raises the stored signature counter, refusing one that did not grow.
 */
import type { Context } from 'koa';
import { AMR } from '../sessions/mfa/acr.js';
import type { WebAuthnAuthenticator } from '../sessions/mfa/config.js';
import { addWebAuthnCredential, enrolledWith, useWebAuthnCounter, webauthnUserHandle } from '../sessions/mfa/credentials.js';
import { MFAError } from '../sessions/mfa/errors.js';
import { assertionOptions, registrationOptions, verifyAssertion, verifyRegistration, type Ceremony } from '../sessions/mfa/webauthn.js';
import { NotFoundError, type MFAProgress } from '../storage/storage.js';
import { LoginError } from './errors.js';
import type { LoginDeps } from './handler.js';
import {
  alternativesTo, authenticatorOf, clientNameOf, continueLogin, lockedMessage, openMFAStep, pageContext, passStep, recordEnrollment,
  recordFailure, type MFARequest,
} from './mfa.js';
import { afterEnrollment } from './mfa-totp.js';
import { sendPage } from './page.js';
import { webauthnPage } from './pages/mfa.js';

type Pending = NonNullable<MFAProgress['pending']>;

function webauthnAuthenticator(request: MFARequest, id: string | undefined): WebAuthnAuthenticator {
  return authenticatorOf(request.step, id, 'WebAuthn') as WebAuthnAuthenticator;
}

function ceremonyOf(deps: LoginDeps, authenticator: WebAuthnAuthenticator): Ceremony {
  return { authenticator, issuer: deps.issuer.issuer, displayName: authenticator.config.rpDisplayName ?? deps.theme.issuerName };
}

/** Shows the page with a new challenge for this login: an assertion, or a registration for a person without a credential. */
async function showWebAuthn(ctx: Context, deps: LoginDeps, request: MFARequest, authenticator: WebAuthnAuthenticator, status: number, error?: string): Promise<void> {
  const ceremony = ceremonyOf(deps, authenticator);
  const registered = enrolledWith(request.credentials, authenticator.id).webauthn;
  const { identity } = request.authRequest;
  const handle = webauthnUserHandle(request.credentials);
  const options = registered.length > 0
    ? await assertionOptions(ceremony, registered)
    : await registrationOptions(ceremony, { name: identity.email ?? identity.username, displayName: identity.username, handle }, request.credentials?.webauthn ?? []);
  const pending: Pending = registered.length > 0
    ? { kind: 'webauthn-assertion', authenticatorId: authenticator.id, challenge: options.challenge }
    : { kind: 'webauthn-registration', authenticatorId: authenticator.id, challenge: options.challenge, secret: handle };
  await deps.issuer.storage.authRequests.update(request.authRequest.id, (current) => ({ ...current, mfa: { passed: current.mfa?.passed ?? [], pending } }));
  const page = pageContext(deps, request, await clientNameOf(deps, request));
  sendPage(ctx, deps.theme, status, webauthnPage(page, {
    authenticatorId: authenticator.id,
    mode: registered.length > 0 ? 'get' : 'create',
    options: JSON.stringify(options),
    error,
    alternatives: alternativesTo(deps, request, authenticator),
  }));
}

export async function handleWebAuthnPage(ctx: Context, deps: LoginDeps): Promise<void> {
  const opened = await openMFAStep(ctx, deps);
  if (opened) await showWebAuthn(ctx, deps, opened.request, webauthnAuthenticator(opened.request, opened.params.authenticator), 200);
}

/** Takes the login's pending WebAuthn challenge off it, once: a second answer finds none. */
async function takeChallenge(deps: LoginDeps, request: MFARequest, authenticatorId: string): Promise<Pending | undefined> {
  let taken: Pending | undefined;
  try {
    await deps.issuer.storage.authRequests.update(request.authRequest.id, (current) => {
      const pending = current.mfa?.pending;
      taken = pending?.authenticatorId === authenticatorId && pending.kind !== 'totp-enrollment' ? pending : undefined;
      return taken ? { ...current, mfa: { passed: current.mfa?.passed ?? [] } } : current;
    });
  } catch (error) {
    if (error instanceof NotFoundError) throw new LoginError('already_completed', 400, 'This sign-in was already completed', 'This sign-in request was already used or has expired. Go back to the application and start again.');
    throw error;
  }
  return taken;
}

export async function handleWebAuthn(ctx: Context, deps: LoginDeps): Promise<void> {
  const opened = await openMFAStep(ctx, deps);
  if (!opened) return;
  const { params: form, request } = opened;
  const authenticator = webauthnAuthenticator(request, form.authenticator);
  const locked = await lockedMessage(deps, request);
  if (locked) return showWebAuthn(ctx, deps, request, authenticator, 429, locked);
  const ceremony = ceremonyOf(deps, authenticator);
  const now = deps.issuer.now();
  const pending = await takeChallenge(deps, request, authenticator.id);
  try {
    if (!pending?.challenge) throw new MFAError('challenge_mismatch', 'no passkey challenge is open for this sign-in');
    if (pending.kind === 'webauthn-registration') {
      const credential = await verifyRegistration(ceremony, form.credential ?? '', pending.challenge, now);
      await addWebAuthnCredential(deps.issuer.storage, request.user, pending.secret!, credential, now);
    } else {
      const registered = enrolledWith(request.credentials, authenticator.id).webauthn;
      const used = await verifyAssertion(ceremony, form.credential ?? '', pending.challenge, registered);
      await useWebAuthnCounter(deps.issuer.storage, request.user, used.credentialId, used.counter, now);
    }
  } catch (error) {
    if (!(error instanceof MFAError)) throw error;
    const message = await recordFailure(deps, request, 'webauthn', authenticator.id, error);
    return showWebAuthn(ctx, deps, request, authenticator, 401, message);
  }
  const enrolled = pending.kind === 'webauthn-registration';
  if (enrolled) recordEnrollment(deps, request, authenticator);
  await passStep(deps, request, { method: 'webauthn', amr: AMR.webauthn, authenticatorId: authenticator.id });
  if (enrolled) return afterEnrollment(ctx, deps, request);
  return continueLogin(ctx, deps, request.authRequest.id);
}
