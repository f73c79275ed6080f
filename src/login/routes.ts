/**
 * Mounts the login side of the issuer on the issuer's router, every path relative to the issuer
 * path: /auth (authorization endpoint + chooser), /auth/:connector, /auth/:connector/login,
 * /callback[/:connector], /callback/:connector/finish, /mfa[/totp|/webauthn|/recovery] (with mfa.authenticators),
 * /approval, /logout (RP-Initiated Logout), /account and /account/consents, /saml/:connector/metadata, / and
 * /static/:file, and while the device grant is enabled Dex's /device, /device/auth/verify_code and /device/callback.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { IssuerContext } from '../oidc/context.js';
import { deviceFlowEnabled } from '../oidc/device/authorization-endpoint.js';
import { DEVICE_PATHS } from '../oidc/device/device-request.js';
import { LOGOUT_PATH } from '../sessions/end-session.js';
import { handleAccountPage, handleWithdrawConsent } from './account.js';
import { handleApproval, handleApprovalPage } from './approval.js';
import { loginAssets } from './assets.js';
import { handleCallback, handleCallbackFinish } from './callback.js';
import { clientIPReader } from './client-ip.js';
import { handleDeviceCallback, handleDevicePage, handleUserCode } from './device.js';
import { LoginError } from './errors.js';
import { loginRoute, type LoginDeps } from './handler.js';
import { handleLogout } from './logout.js';
import { handleMFA } from './mfa.js';
import { handleRecovery, handleRecoveryPage, handleTOTP, handleTOTPPage } from './mfa-totp.js';
import { handleWebAuthn, handleWebAuthnPage } from './mfa-webauthn.js';
import { sendPage } from './page.js';
import { rootPage } from './pages/root.js';
import { handlePasswordForm, handlePasswordLogin } from './password-login.js';
import { handleAuthorize, handleConnectorStart } from './start.js';
import { resolveTheme } from './theme.js';
import { createLoginThrottle } from './throttle.js';

/** login.authRequests as a throttle: every stored request counts, and the limit holds for one window. */
function authRequestLimit(limit: { maxPerClientIP: number; window: number }) {
  return { maxFailures: limit.maxPerClientIP, window: limit.window, lockout: limit.window };
}

export function mountLoginRoutes(router: Router, ctx: IssuerContext): void {
  const deps: LoginDeps = {
    issuer: ctx,
    theme: resolveTheme(ctx.config, ctx.basePath),
    throttle: createLoginThrottle(ctx.storage, ctx.config.login.throttle, ctx.now),
    authRequestLimit: createLoginThrottle(ctx.storage, authRequestLimit(ctx.config.login.authRequests), ctx.now),
    clientIP: clientIPReader(ctx.config),
  };
  const assets = loginAssets(deps.theme.extraCSS);

  router.get('/auth', loginRoute('/auth', deps, handleAuthorize));
  router.post('/auth', loginRoute('/auth', deps, handleAuthorize));
  router.get('/auth/:connector', loginRoute('/auth/:connector', deps, handleConnectorStart));
  router.get('/auth/:connector/login', loginRoute('/auth/:connector/login', deps, handlePasswordForm));
  router.post('/auth/:connector/login', loginRoute('/auth/:connector/login', deps, handlePasswordLogin));
  router.get('/callback', loginRoute('/callback', deps, handleCallback));
  router.post('/callback', loginRoute('/callback', deps, handleCallback));
  router.get('/callback/:connector', loginRoute('/callback/:connector', deps, handleCallback));
  router.post('/callback/:connector', loginRoute('/callback/:connector', deps, handleCallback));
  router.get('/callback/:connector/finish', loginRoute('/callback/:connector/finish', deps, handleCallbackFinish));
  if ((ctx.config.mfa?.authenticators.length ?? 0) > 0) {
    router.get('/mfa', loginRoute('/mfa', deps, handleMFA));
    router.get('/mfa/totp', loginRoute('/mfa/totp', deps, handleTOTPPage));
    router.post('/mfa/totp', loginRoute('/mfa/totp', deps, handleTOTP));
    router.get('/mfa/webauthn', loginRoute('/mfa/webauthn', deps, handleWebAuthnPage));
    router.post('/mfa/webauthn', loginRoute('/mfa/webauthn', deps, handleWebAuthn));
    router.get('/mfa/recovery', loginRoute('/mfa/recovery', deps, handleRecoveryPage));
    router.post('/mfa/recovery', loginRoute('/mfa/recovery', deps, handleRecovery));
  }
  router.get('/approval', loginRoute('/approval', deps, handleApprovalPage));
  router.post('/approval', loginRoute('/approval', deps, handleApproval));
  router.get(LOGOUT_PATH, loginRoute(LOGOUT_PATH, deps, handleLogout));
  router.post(LOGOUT_PATH, loginRoute(LOGOUT_PATH, deps, handleLogout));
  router.get('/account', loginRoute('/account', deps, handleAccountPage));
  router.post('/account/consents', loginRoute('/account/consents', deps, handleWithdrawConsent));
  if (deviceFlowEnabled(ctx)) {
    router.get(DEVICE_PATHS.verification, loginRoute(DEVICE_PATHS.verification, deps, handleDevicePage));
    router.post(DEVICE_PATHS.verifyCode, loginRoute(DEVICE_PATHS.verifyCode, deps, handleUserCode));
    router.get(DEVICE_PATHS.callback, loginRoute(DEVICE_PATHS.callback, deps, handleDeviceCallback));
  }
  router.get('/saml/:connector/metadata', loginRoute('/saml/:connector/metadata', deps, serveSamlMetadata));
  router.get('/', loginRoute('/', deps, async (koaCtx) => sendPage(koaCtx, deps.theme, 200, rootPage(deps.theme.issuerName, ctx.basePath))));
  router.get('/static/:file', loginRoute('/static/:file', deps, async (koaCtx) => {
    const asset = assets.get(koaCtx.params.file ?? '');
    if (!asset) throw notFound();
    koaCtx.set('Content-Security-Policy', "default-src 'none'");
    koaCtx.set('X-Content-Type-Options', 'nosniff');
    koaCtx.set('Cache-Control', 'public, max-age=3600');
    koaCtx.type = asset.type;
    koaCtx.body = asset.body;
  }));
}

async function serveSamlMetadata(ctx: Context, deps: LoginDeps): Promise<void> {
  const open = deps.issuer.connectors.get(ctx.params.connector ?? '');
  if (!open || open.connector.kind !== 'saml' || !open.connector.metadata) throw notFound();
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = 'application/samlmetadata+xml';
  ctx.body = open.connector.metadata();
}

function notFound(): LoginError {
  return new LoginError('not_found', 404, 'Page not found', 'There is nothing at this address.');
}
