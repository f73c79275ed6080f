/**
 * CORS for the endpoints browsers call directly (discovery, /keys, /token, /userinfo): origins from
 * web.allowedOrigins, matched exactly (`*` allows any), preflight answered here, `Vary: Origin` always,
 * so a shared cache never serves one origin's answer to another. No credentials are ever allowed.
 */
import type { Middleware } from 'koa';

export interface CorsOptions {
  allowedOrigins: readonly string[];
  /** Extra request headers a preflight may ask for (web.allowedHeaders). */
  allowedHeaders?: readonly string[];
  /** Methods the route serves (OPTIONS is added). */
  methods: readonly string[];
}

/** DPoP: a browser client sends its proofs (RFC 9449 §4.1) and reads the server's nonce and challenges. */
const BASE_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'DPoP'];
const EXPOSED_HEADERS = 'DPoP-Nonce, WWW-Authenticate';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function cors(options: CorsOptions): Middleware {
  const anyOrigin = options.allowedOrigins.includes('*');
  const origins = new Set(options.allowedOrigins);
  const headers = [...new Set([...BASE_HEADERS, ...(options.allowedHeaders ?? [])])];
  const allowed = (origin: string) => anyOrigin || origins.has(origin);

  return async (ctx, next) => {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    const permitted = origin !== '' && allowed(origin);
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      if (permitted && ctx.get('access-control-request-method')) {
        ctx.set('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
        ctx.set('Access-Control-Allow-Methods', [...options.methods, 'OPTIONS'].join(', '));
        ctx.set('Access-Control-Allow-Headers', headers.join(', '));
        ctx.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      return;
    }
    if (permitted) {
      ctx.set('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    await next();
  };
}
