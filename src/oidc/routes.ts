/**
 * Mounts the token side of the OP on the issuer's router, relative to the issuer path: discovery,
 * /keys, /token, /userinfo, /par (pushed authorization requests), and while the device grant is enabled Dex's /device/code and
 * /device/token, each with CORS and protocol-error handling, and its route template in
 * ctx.state.route for metrics.
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { cors } from '../http/cors.js';
import type { IssuerContext } from './context.js';
import { deviceFlowEnabled, handleDeviceAuthorization } from './device/authorization-endpoint.js';
import { DEVICE_CODE_GRANT, DEVICE_PATHS } from './device/device-request.js';
import { discoveryDocument } from './discovery.js';
import { handlePushedAuthorizationRequest, PAR_PATH } from './par-endpoint.js';
import { protocolErrors, sendJson } from './respond.js';
import { handleTokenRequest } from './token/endpoint.js';
import { createUserInfoHandler } from './userinfo.js';

const ROUTES = {
  discovery: '/.well-known/openid-configuration',
  keys: '/keys',
  token: '/token',
  userinfo: '/userinfo',
} as const;

function routeName(template: string): Middleware {
  return async (koaCtx, next) => {
    koaCtx.state.route = template;
    await next();
  };
}

async function serveKeys(ctx: IssuerContext, koaCtx: Context): Promise<void> {
  const [jwks, maxAge] = await Promise.all([ctx.signer.jwks(), ctx.signer.jwksMaxAgeSeconds()]);
  // max-age never exceeds the time before a key not in this response could sign (see keys/rotation.ts).
  koaCtx.set('Cache-Control', `public, max-age=${maxAge}, must-revalidate`);
  sendJson(koaCtx, 200, { keys: jwks.keys });
}

export function mountTokenRoutes(router: Router, ctx: IssuerContext): void {
  const errors = protocolErrors(ctx.logger);
  const corsFor = (methods: string[]) =>
    cors({ allowedOrigins: ctx.config.web.allowedOrigins, allowedHeaders: ctx.config.web.allowedHeaders, methods });
  const mount = (template: string, methods: Array<'GET' | 'POST'>, handler: (koaCtx: Context) => Promise<void>) => {
    const chain: Middleware[] = [routeName(template), corsFor(methods), errors, async (koaCtx) => handler(koaCtx)];
    router.options(template, ...chain.slice(0, 2));
    for (const method of methods) {
      if (method === 'GET') router.get(template, ...chain);
      else router.post(template, ...chain);
    }
  };

  mount(ROUTES.discovery, ['GET'], async (koaCtx) => {
    koaCtx.set('Cache-Control', 'public, max-age=3600');
    sendJson(koaCtx, 200, await discoveryDocument(ctx));
  });
  mount(ROUTES.keys, ['GET'], (koaCtx) => serveKeys(ctx, koaCtx));
  mount(ROUTES.token, ['POST'], (koaCtx) => handleTokenRequest(ctx, koaCtx));
  const userinfo = createUserInfoHandler(ctx);
  mount(ROUTES.userinfo, ['GET', 'POST'], userinfo);
  mount(PAR_PATH, ['POST'], (koaCtx) => handlePushedAuthorizationRequest(ctx, koaCtx));
  if (deviceFlowEnabled(ctx)) {
    mount(DEVICE_PATHS.authorization, ['POST'], (koaCtx) => handleDeviceAuthorization(ctx, koaCtx));
    mount(DEVICE_PATHS.token, ['POST'], (koaCtx) => handleTokenRequest(ctx, koaCtx, { grantTypes: [DEVICE_CODE_GRANT] }));
  }
}
