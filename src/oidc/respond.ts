/**
 * Writes the protocol endpoints' JSON responses and errors: OAuthError and BodyError become
 * `{error, error_description}` with their status and WWW-Authenticate; storage outages are 503
 * temporarily_unavailable; anything else is a generic 500 with a log line carrying the request id.
 * Never a stack trace, never a token.
 */
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { BodyError } from '../http/form.js';
import { StorageUnavailableError } from '../storage/storage.js';
import type { RequestState } from './context.js';
import { OAuthError } from './errors.js';

/** JSON body; `noStore` adds the Cache-Control/Pragma RFC 6749 §5.1 requires for token responses. */
export function sendJson(ctx: Context, status: number, body: unknown, options: { noStore?: boolean } = {}): void {
  ctx.status = status;
  // What `ctx.type = 'application/json'` sets, without its MIME lookup on every response.
  ctx.set('Content-Type', 'application/json; charset=utf-8');
  if (options.noStore) {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
  }
  ctx.body = JSON.stringify(body);
}

/** The protocol error an exception stands for; unexpected errors are logged and hidden. */
export function toOAuthError(error: unknown, log: Logger, requestId: string | undefined): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof BodyError) {
    return new OAuthError('invalid_request', error.message, { status: error.status });
  }
  if (error instanceof StorageUnavailableError) {
    log.error({ requestId, err: { message: error.message } }, 'storage unavailable');
    return new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable, try again later');
  }
  log.error({ requestId, err: error }, 'unexpected error in a protocol endpoint');
  return new OAuthError('server_error', `internal error (request id ${requestId ?? 'unknown'})`);
}

export function sendError(ctx: Context, error: OAuthError): void {
  if (error.wwwAuthenticate) ctx.set('WWW-Authenticate', error.wwwAuthenticate);
  for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
  sendJson(ctx, error.status, error.toJSON(), { noStore: true });
}

/** Catches whatever the handler throws and answers it as a protocol error. */
export function protocolErrors(fallbackLog: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const state = ctx.state as Partial<RequestState>;
      sendError(ctx, toOAuthError(error, state.log ?? fallbackLog, state.requestId));
    }
  };
}
