/**
 * Mounts the login side of the issuer on the issuer's router, every path relative to the issuer
 * path: /auth (authorization endpoint + chooser), /auth/:connector, /auth/:connector/login,
 * /callback[/:connector], /approval, /saml/:connector/metadata, / and /static/:file.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { IssuerContext } from '../oidc/context.js';
import { handleApproval, handleApprovalPage } from './approval.js';
import { loginAssets } from './assets.js';
import { handleCallback } from './callback.js';
import { clientIPReader } from './client-ip.js';
import { LoginError } from './errors.js';
import { loginRoute, type LoginDeps } from './handler.js';
import { sendPage } from './page.js';
import { rootPage } from './pages/root.js';
import { handlePasswordForm, handlePasswordLogin } from './password-login.js';
import { handleAuthorize, handleConnectorStart } from './start.js';
import { resolveTheme } from './theme.js';
import { createLoginThrottle } from './throttle.js';

export function mountLoginRoutes(router: Router, ctx: IssuerContext): void {
  const deps: LoginDeps = {
    issuer: ctx,
    theme: resolveTheme(ctx.config, ctx.basePath),
    throttle: createLoginThrottle(ctx.storage, ctx.config.login.throttle, ctx.now),
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
  router.get('/approval', loginRoute('/approval', deps, handleApprovalPage));
  router.post('/approval', loginRoute('/approval', deps, handleApproval));
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
