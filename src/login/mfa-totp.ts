/**
 * The TOTP and recovery code steps. GET /mfa/totp shows the code prompt, or, for a person without a
 * secret for this authenticator, the enrollment page: a new secret (kept on the auth request, for this
 * login only, until a code proves the app has it) as a QR code and as text. POST /mfa/totp checks the
 * code (RFC 6238, ±1 step) and records its time step, so the same code is refused for the rest of its
 * window; an enrollment then hands out recovery codes, shown once. /mfa/recovery takes one of those
 * codes instead of the app's, once.
 */
import type { Context } from 'koa';
import QRCode from 'qrcode';
import { AMR } from '../sessions/mfa/acr.js';
import type { MFAAuthenticator, TOTPAuthenticator } from '../sessions/mfa/config.js';
import { enrolledWith, enrollTOTP, issueRecoveryCodes, useRecoveryCode, useTOTPStep } from '../sessions/mfa/credentials.js';
import { MFAError } from '../sessions/mfa/errors.js';
import { looksLikeRecoveryCode, newRecoveryCodes, recoveryCodeHash } from '../sessions/mfa/recovery-codes.js';
import { matchingStep, newTOTPSecret, totpURI } from '../sessions/mfa/totp.js';
import type { LoginDeps } from './handler.js';
import {
  alternativesTo, authenticatorOf, clientNameOf, continueLogin, lockedMessage, openMFAStep, pageContext, passStep, recordEnrollment,
  recordFailure, type MFARequest,
} from './mfa.js';
import { sendPage } from './page.js';
import { recoveryCodesPage, recoveryPromptPage, totpEnrollmentPage, totpPromptPage } from './pages/mfa.js';

const QR_MARGIN = 2;
const QR_SCALE = 5;

function totpAuthenticator(request: MFARequest, id: string | undefined): TOTPAuthenticator {
  return authenticatorOf(request.step, id, 'TOTP') as TOTPAuthenticator;
}

/** The secret being enrolled in this login: the pending one (a reload shows the same QR code), or a new one. */
async function enrollmentSecret(deps: LoginDeps, request: MFARequest, authenticator: TOTPAuthenticator): Promise<string> {
  const pending = request.authRequest.mfa?.pending;
  if (pending?.kind === 'totp-enrollment' && pending.authenticatorId === authenticator.id && pending.secret) return pending.secret;
  const secret = newTOTPSecret();
  await deps.issuer.storage.authRequests.update(request.authRequest.id, (current) => ({
    ...current,
    mfa: { passed: current.mfa?.passed ?? [], pending: { kind: 'totp-enrollment', authenticatorId: authenticator.id, secret } },
  }));
  return secret;
}

async function showTOTP(ctx: Context, deps: LoginDeps, request: MFARequest, authenticator: TOTPAuthenticator, status: number, error?: string): Promise<void> {
  const page = pageContext(deps, request, await clientNameOf(deps, request));
  if (enrolledWith(request.credentials, authenticator.id).totp) {
    return sendPage(ctx, deps.theme, status, totpPromptPage(page, { authenticatorId: authenticator.id, error, alternatives: alternativesTo(deps, request, authenticator) }));
  }
  const secret = await enrollmentSecret(deps, request, authenticator);
  const account = request.authRequest.identity.email ?? request.authRequest.identity.username;
  const uri = totpURI(secret, { issuer: authenticator.config.issuer ?? deps.theme.issuerName, name: account });
  // Whole pixels per module, shown at its own size, so no scaling blurs it for a phone's camera.
  const qrCode = await QRCode.toDataURL(uri, { type: 'image/png', margin: QR_MARGIN, scale: QR_SCALE, errorCorrectionLevel: 'M' });
  const qrSize = (QRCode.create(uri, { errorCorrectionLevel: 'M' }).modules.size + 2 * QR_MARGIN) * QR_SCALE;
  sendPage(ctx, deps.theme, status, totpEnrollmentPage(page, { qrCode, qrSize, secret, account, authenticatorId: authenticator.id, error }));
}

export async function handleTOTPPage(ctx: Context, deps: LoginDeps): Promise<void> {
  const opened = await openMFAStep(ctx, deps);
  if (opened) await showTOTP(ctx, deps, opened.request, totpAuthenticator(opened.request, opened.params.authenticator), 200);
}

export async function handleTOTP(ctx: Context, deps: LoginDeps): Promise<void> {
  const opened = await openMFAStep(ctx, deps);
  if (!opened) return;
  const { params: form, request } = opened;
  const authenticator = totpAuthenticator(request, form.authenticator);
  const locked = await lockedMessage(deps, request);
  if (locked) return showTOTP(ctx, deps, request, authenticator, 429, locked);
  const now = deps.issuer.now();
  const enrolled = enrolledWith(request.credentials, authenticator.id).totp;
  const pending = request.authRequest.mfa?.pending;
  const secret = enrolled?.secret ?? (pending?.kind === 'totp-enrollment' && pending.authenticatorId === authenticator.id ? pending.secret : undefined);
  try {
    const step = secret === undefined ? undefined : matchingStep(secret, form.totp ?? '', now);
    if (step === undefined || secret === undefined) throw new MFAError('invalid_code', 'the code does not match the secret at this time');
    if (enrolled) await useTOTPStep(deps.issuer.storage, request.user, authenticator.id, step, now);
    else await enrollTOTP(deps.issuer.storage, request.user, { authenticatorId: authenticator.id, secret, step }, now);
  } catch (error) {
    if (!(error instanceof MFAError)) throw error;
    const message = await recordFailure(deps, request, 'totp', authenticator.id, error);
    return showTOTP(ctx, deps, request, authenticator, 401, message);
  }
  if (!enrolled) recordEnrollment(deps, request, authenticator);
  await passStep(deps, request, { method: 'totp', amr: AMR.oneTimePassword, authenticatorId: authenticator.id });
  if (!enrolled) return afterEnrollment(ctx, deps, request);
  return continueLogin(ctx, deps, request.authRequest.id);
}

/**
 * After a first enrollment: recovery codes (when the person has none yet and mfa.recoveryCodes asks
 * for some), shown on this page only; then on with the login.
 */
export async function afterEnrollment(ctx: Context, deps: LoginDeps, request: MFARequest): Promise<void> {
  const count = deps.issuer.config.mfa?.recoveryCodes ?? 0;
  if (count === 0 || (request.credentials?.recoveryCodeHashes.length ?? 0) > 0) return continueLogin(ctx, deps, request.authRequest.id);
  const { codes, hashes } = newRecoveryCodes(count);
  if (!(await issueRecoveryCodes(deps.issuer.storage, request.user, hashes, deps.issuer.now()))) return continueLogin(ctx, deps, request.authRequest.id);
  sendPage(ctx, deps.theme, 200, recoveryCodesPage(pageContext(deps, request, await clientNameOf(deps, request)), codes));
}

/** The authenticator (of a chain step) a recovery code stands in for; none for an acr step. */
function replacedAuthenticator(request: MFARequest, id: string | undefined): MFAAuthenticator | undefined {
  if (request.step.kind === 'authenticator') return request.step.authenticator;
  return request.step.authenticators.find((a) => a.id === id);
}

async function showRecovery(ctx: Context, deps: LoginDeps, request: MFARequest, authenticatorId: string | undefined, status: number, error?: string): Promise<void> {
  const replaced = replacedAuthenticator(request, authenticatorId);
  const alternatives = replaced ? [{ label: 'Back', href: `${deps.issuer.basePath}/mfa?req=${encodeURIComponent(request.authRequest.id)}` }] : [];
  const page = pageContext(deps, request, await clientNameOf(deps, request));
  sendPage(ctx, deps.theme, status, recoveryPromptPage(page, { authenticatorId: replaced?.id, error, alternatives }));
}

export async function handleRecoveryPage(ctx: Context, deps: LoginDeps): Promise<void> {
  const opened = await openMFAStep(ctx, deps);
  if (opened) await showRecovery(ctx, deps, opened.request, opened.params.authenticator, 200);
}

export async function handleRecovery(ctx: Context, deps: LoginDeps): Promise<void> {
  const opened = await openMFAStep(ctx, deps);
  if (!opened) return;
  const { params: form, request } = opened;
  const replaced = replacedAuthenticator(request, form.authenticator);
  if (request.step.kind === 'level' && request.step.acr === 'phr') {
    return showRecovery(ctx, deps, request, replaced?.id, 400, 'This application needs your passkey: a recovery code cannot replace it.');
  }
  const locked = await lockedMessage(deps, request);
  if (locked) return showRecovery(ctx, deps, request, replaced?.id, 429, locked);
  const typed = form.recovery_code ?? '';
  try {
    if (!looksLikeRecoveryCode(typed)) throw new MFAError('invalid_code', 'not shaped like a recovery code');
    await useRecoveryCode(deps.issuer.storage, request.user, recoveryCodeHash(typed), deps.issuer.now());
  } catch (error) {
    if (!(error instanceof MFAError)) throw error;
    const message = await recordFailure(deps, request, 'recovery_code', replaced?.id, error);
    return showRecovery(ctx, deps, request, replaced?.id, 401, message);
  }
  await passStep(deps, request, { method: 'recovery_code', amr: AMR.oneTimePassword, ...(replaced ? { authenticatorId: replaced.id } : {}) });
  return continueLogin(ctx, deps, request.authRequest.id);
}
