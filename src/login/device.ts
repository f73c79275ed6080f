/**
 * The person's side of the device flow (RFC 8628 §3.3), at Dex's paths: /device shows the code form,
 * /device/auth/verify_code checks the code (CSRF-protected, wrong codes throttled per client IP) and
 * starts a normal login for the device's client, whose approval page is always shown; the login ends at
 * /device/callback, which settles the device request and says whether the device got access.
 */
import type { Context } from 'koa';
import { readForm, readQuery } from '../http/form.js';
import { allowedConnectors } from '../oidc/authorize/check_connector.js';
import { randomToken } from '../oidc/authorize/random.js';
import { subjectOf } from '../oidc/claims.js';
import {
  assertOpen, beginDeviceLogin, DEVICE_CODE_GRANT, DEVICE_PATHS, deviceCallbackURI, DeviceLoginError, findByUserCode, requestOfState, settleDeviceRequest,
  type DeviceApproval, type DeviceLogin, type DeviceLoginRefusal,
} from '../oidc/device/device-request.js';
import { OAuthError } from '../oidc/errors.js';
import { checkPkce } from '../oidc/token/pkce.js';
import { hashToken } from '../storage/secrets.js';
import type { AuthCode, AuthRequest, DeviceRequest } from '../storage/storage.js';
import { bindBrowser } from './browser-binding.js';
import { csrfTokenMatches } from './csrf.js';
import { csrfFailure, LoginError } from './errors.js';
import { redirect, type LoginDeps } from './handler.js';
import { sendPage } from './page.js';
import { chooserPage } from './pages/chooser.js';
import { deviceCodePage, deviceDonePage } from './pages/device.js';
import { connectorStartURL } from './start.js';
import { describeWait } from './throttle.js';

/** The code form's CSRF token, double-submitted: in this cookie and in the form. */
const CSRF_COOKIE = 'idgate_device_csrf';
const CSRF_VALUE = /^[A-Za-z0-9_-]{43}$/;

function csrfCookie(ctx: Context): string | undefined {
  const value = ctx.cookies.get(CSRF_COOKIE);
  return value !== undefined && CSRF_VALUE.test(value) ? value : undefined;
}

/** The browser's token, set now if it has none; `Secure` follows the issuer URL (TLS may end at a proxy). */
function deviceCsrfToken(ctx: Context, deps: LoginDeps): string {
  const existing = csrfCookie(ctx);
  if (existing) return existing;
  const value = randomToken(32);
  const { issuer, basePath } = deps.issuer;
  const secure = new URL(issuer).protocol === 'https:';
  ctx.append('Set-Cookie', `${CSRF_COOKIE}=${value}; Path=${basePath}${DEVICE_PATHS.verification}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
  return value;
}

function showCodeForm(ctx: Context, deps: LoginDeps, status: number, userCode?: string, error?: string): void {
  sendPage(ctx, deps.theme, status, deviceCodePage({ basePath: deps.issuer.basePath, csrfToken: deviceCsrfToken(ctx, deps), userCode, error }));
}

/** GET /device[?user_code=]: the code form, pre-filled from verification_uri_complete. */
export async function handleDevicePage(ctx: Context, deps: LoginDeps): Promise<void> {
  showCodeForm(ctx, deps, 200, readQuery(ctx).user_code);
}

const REFUSAL_TEXT: Record<Exclude<DeviceLoginRefusal, 'superseded'>, string> = {
  unknown: 'That code is not valid. Check the code on your device and try again.',
  expired: 'That code has expired. Start again on your device to get a new one.',
  completed: 'That code was already used. Start again on your device to get a new one.',
};

function recordCodeEntry(deps: LoginDeps, outcome: 'succeeded' | 'refused', details: { reason?: string; clientId?: string }): void {
  deps.issuer.audit.write({ event: 'device_user_code', outcome, ...details });
}

/** POST /device/auth/verify_code: a right code starts the login, a wrong one counts against the IP. */
export async function handleUserCode(ctx: Context, deps: LoginDeps): Promise<void> {
  const form = await readForm(ctx);
  const expected = csrfCookie(ctx);
  if (!expected || !csrfTokenMatches(expected, form.csrf_token)) throw csrfFailure();
  const typed = (form.user_code ?? '').trim();
  const keys = [`device-code:ip:${deps.clientIP(ctx)}`];
  const locked = await deps.throttle.lockedFor(keys);
  if (locked > 0) {
    recordCodeEntry(deps, 'refused', { reason: 'throttled' });
    return showCodeForm(ctx, deps, 429, typed, tooManyCodes(locked));
  }
  if (!typed) return showCodeForm(ctx, deps, 400, typed, 'Enter the code shown on your device.');

  const record = await findByUserCode(deps.issuer, typed);
  const refusal = refusalOf(record, deps.issuer.now());
  if (refusal || !record) {
    const reason = refusal ?? 'unknown';
    // Only a code that names nothing is a guess; an expired or used one was real.
    const nowLocked = reason === 'unknown' ? await deps.throttle.fail(keys) : 0;
    recordCodeEntry(deps, 'refused', { reason: reason === 'unknown' ? 'invalid_user_code' : reason, clientId: record?.clientId });
    if (nowLocked > 0) return showCodeForm(ctx, deps, 429, typed, tooManyCodes(nowLocked));
    return showCodeForm(ctx, deps, 400, typed, REFUSAL_TEXT[reason]);
  }
  const login = await beginDeviceLogin(deps.issuer, record).catch(asPageError);
  const authRequest = await createDeviceAuthRequest(ctx, deps, record, login);
  recordCodeEntry(deps, 'succeeded', { clientId: record.clientId });
  await startLogin(ctx, deps, authRequest);
}

function refusalOf(record: DeviceRequest | undefined, now: number): Exclude<DeviceLoginRefusal, 'superseded'> | undefined {
  if (!record) return 'unknown';
  try {
    assertOpen(record, now);
    return undefined;
  } catch (error) {
    if (error instanceof DeviceLoginError && error.reason !== 'superseded') return error.reason;
    throw error;
  }
}

function tooManyCodes(ms: number): string {
  return `Too many wrong codes. Try again in ${describeWait(ms)}.`;
}

/**
 * The login for the device's client: its redirect URI is our callback, its state and PKCE challenge come
 * from the device request's fresh callback secret, and it asks for consent whatever skipApprovalScreen
 * says, so the person sees which application gets access before it does (RFC 8628 §5.4).
 */
async function createDeviceAuthRequest(ctx: Context, deps: LoginDeps, record: DeviceRequest, login: DeviceLogin): Promise<AuthRequest> {
  const { issuer } = deps;
  const now = issuer.now();
  const authRequest: AuthRequest = {
    id: randomToken(24),
    clientId: record.clientId,
    redirectURI: deviceCallbackURI(issuer),
    responseType: 'code',
    responseMode: 'query',
    scopes: record.scopes,
    state: login.state,
    codeChallenge: login.codeChallenge,
    codeChallengeMethod: 'S256',
    prompt: ['consent'],
    loggedIn: false,
    csrfToken: randomToken(32),
    browserHash: bindBrowser(ctx, issuer),
    createdAt: now,
    expiresAt: Math.min(record.codeExpiresAt, now + issuer.config.expiry.authRequests),
  };
  await issuer.storage.authRequests.create(authRequest);
  return authRequest;
}

/** As /auth goes on: straight to the one connector, else the chooser. */
async function startLogin(ctx: Context, deps: LoginDeps, authRequest: AuthRequest): Promise<void> {
  const client = await deps.issuer.storage.clients.get(authRequest.clientId);
  if (!client) throw new LoginError('bad_request', 400, 'Unknown application', 'The application that asked for this code no longer exists.');
  const connectors = allowedConnectors(deps.issuer, client, DEVICE_CODE_GRANT);
  if (connectors.length === 0) {
    throw new LoginError('connector_not_found', 503, 'No sign-in method', 'No sign-in method is available for this application right now.');
  }
  if (connectors.length === 1 && !deps.issuer.config.oauth2.alwaysShowLoginScreen) {
    return redirect(ctx, connectorStartURL(deps, connectors[0]!.id, authRequest.id), 303);
  }
  sendPage(ctx, deps.theme, 200, chooserPage({
    basePath: deps.issuer.basePath,
    clientName: client.name || client.id,
    authRequestId: authRequest.id,
    connectors,
  }));
}

/** GET /device/callback: where the device login's approval (code) or denial (error) arrives. */
export async function handleDeviceCallback(ctx: Context, deps: LoginDeps): Promise<void> {
  const params = readQuery(ctx);
  const { record, secret } = await requestOfState(deps.issuer, params.state).catch(asPageError);
  const client = await deps.issuer.storage.clients.get(record.clientId);
  const clientName = client?.name || record.clientId;
  if (params.error !== undefined) {
    if (params.error !== 'access_denied') {
      throw new LoginError('upstream_error', 400, 'Sign-in not completed', 'The sign-in did not finish. Enter the code from your device again to retry.');
    }
    await settleDeviceRequest(deps.issuer, record, secret, { approved: false }).catch(asPageError);
    deps.issuer.audit.write({ event: 'device_denied', outcome: 'refused', reason: 'access_denied', clientId: record.clientId });
    return sendPage(ctx, deps.theme, 200, deviceDonePage({ approved: false, clientName }));
  }
  const approval = await approvalOf(deps, record, secret, params.code);
  await settleDeviceRequest(deps.issuer, record, secret, { approved: true, approval }).catch(asPageError);
  deps.issuer.audit.write({
    event: 'device_approved', outcome: 'succeeded', clientId: record.clientId, connectorId: approval.connectorId,
    subject: subjectOf(approval.identity.userId, approval.connectorId), scopes: record.scopes, sid: approval.sessionId,
  });
  sendPage(ctx, deps.theme, 200, deviceDonePage({ approved: true, clientName }));
}

/**
 * Redeems the login's code, once: it must be for our callback and this request's client, and carry
 * the PKCE challenge of this request's callback secret, so no other login's code can settle it.
 */
async function approvalOf(deps: LoginDeps, record: DeviceRequest, secret: string, code: string | undefined): Promise<DeviceApproval> {
  const authCode: AuthCode | undefined = code ? await deps.issuer.storage.authCodes.take(hashToken(code)) : undefined;
  const valid = authCode !== undefined && authCode.expiresAt > deps.issuer.now()
    && authCode.redirectURI === deviceCallbackURI(deps.issuer) && authCode.clientId === record.clientId;
  if (!valid) throw invalidCallback();
  try {
    checkPkce(authCode, secret);
  } catch (error) {
    if (error instanceof OAuthError) throw invalidCallback();
    throw error;
  }
  const { connectorId, identity, connectorData, authTime, sessionId, amr, acr } = authCode;
  return { connectorId, identity, connectorData, authTime, sessionId, ...(amr ? { amr } : {}), ...(acr !== undefined ? { acr } : {}) };
}

function invalidCallback(): LoginError {
  return new LoginError('invalid_response', 400, 'This sign-in cannot be used', 'The sign-in response is invalid or was already used. Enter the code from your device again.');
}

const PAGE_ERRORS: Record<DeviceLoginRefusal, () => LoginError> = {
  unknown: () => new LoginError('request_not_found', 400, 'Unknown device code', 'This device sign-in is unknown or has expired. Start again on your device.'),
  expired: () => new LoginError('request_not_found', 400, 'The code has expired', 'This device sign-in has expired. Start again on your device to get a new code.'),
  completed: () => new LoginError('already_completed', 400, 'Already answered', 'This device sign-in was already approved or denied.'),
  superseded: () => new LoginError('already_completed', 400, 'The code was entered again', 'The code was entered again since this sign-in started; finish the newer sign-in.'),
};

function asPageError(error: unknown): never {
  throw error instanceof DeviceLoginError ? PAGE_ERRORS[error.reason]() : error;
}
