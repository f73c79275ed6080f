/**
 * The koa middleware every listener shares: a request id on every request and log line, metrics by
 * route template, baseline security headers, and the last-resort error writer that turns anything
 * unexpected into a clear JSON or HTML answer (never a stack trace).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { OAuthError } from '../oidc/errors.js';
import { StorageUnavailableError } from '../storage/storage.js';
import type { IssuerMetrics } from '../telemetry/metrics.js';
import { SpanKind, SpanStatusCode, setHttpStatus, type Tracing } from '../telemetry/tracing.js';
import { BodyError, ClientAbortError } from './form.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestContext(logger: Logger) {
  return async function assignRequestId(ctx: Context, next: Next): Promise<void> {
    const offered = ctx.get('x-request-id');
    const requestId = SAFE_REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    // A pino child costs (its bindings are redacted and serialised) and most requests log nothing, so
    // the request's logger is made the first time something asks for it.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= logger.child({ requestId })),
      set: (value: Logger) => {
        log = value;
      },
    });
    ctx.set('X-Request-Id', requestId);
    await next();
  };
}

/**
 * With tracing on: a span per request, child of the request's `traceparent`, named by method and route
 * template (never the path, which may carry a code or token), current for the rest of the request so
 * log lines, audit lines and deeper spans (connector calls, storage) belong to it. Goes first.
 */
export function traceRequests(tracing: Tracing) {
  return async function traceRequest(ctx: Context, next: Next): Promise<void> {
    const parent = tracing.extract(ctx.headers);
    const span = tracing.startSpan(ctx.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.method } }, parent);
    ctx.state.traceId = span.spanContext().traceId;
    try {
      await tracing.withSpan(span, next, parent);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'Error' });
      throw error;
    } finally {
      const route = (ctx.state.route as string | undefined) ?? 'unmatched';
      span.updateName(`${ctx.method} ${route}`);
      span.setAttribute('http.route', route);
      if (ctx.state.clientAborted === true) span.setAttribute('idgate.client_aborted', true);
      else setHttpStatus(span, ctx.status);
      span.end();
    }
  };
}

export function securityHeaders() {
  return async function setSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    await next();
  };
}

/**
 * web.headers (Dex's key): the operator's response headers on every issuer response. Set again after
 * the handler so they win over a page's own (the login pages' CSP), as the operator asked.
 */
export function configuredHeaders(headers: Record<string, string | undefined> = {}) {
  const entries = Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return async function setConfiguredHeaders(ctx: Context, next: Next): Promise<void> {
    const apply = () => {
      if (!ctx.headerSent) for (const [name, value] of entries) ctx.set(name, value);
    };
    apply();
    try {
      await next();
    } finally {
      apply();
    }
  };
}

/** Methods counted by name; any other (a client's free text: PROPFIND, FOO) is counted as "other". */
const COUNTED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The metric labels of a request, from a bounded set only: the matched route template (never the path
 * a client sent) and a known method. Anything a client can vary freely would grow /metrics without end.
 */
export function requestLabels(ctx: Context): { route: string; method: string } {
  const route = (ctx.state.route as string | undefined) ?? 'unmatched';
  return { route, method: COUNTED_METHODS.has(ctx.method) ? ctx.method : 'other' };
}

/** `logger` decides whether each request gets a debug line (through the request's own logger). */
export function observeRequests(metrics: IssuerMetrics, logger: Logger) {
  return async function recordRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const labels = requestLabels(ctx);
      if (ctx.state.clientAborted === true) {
        // No answer was given, so no status to count: aborts are counted apart.
        metrics.httpClientAborts.inc(labels);
      } else {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpRequests.inc({ ...labels, status: String(ctx.status) });
        metrics.httpDuration.observe(labels, seconds);
        if (logger.isLevelEnabled('debug')) {
          const log = ctx.state.log as Logger | undefined;
          log?.debug({ method: ctx.method, route: labels.route, status: ctx.status, ms: Math.round(seconds * 1e6) / 1e3 }, 'request');
        }
      }
    }
  };
}

function wantsHtml(ctx: Context): boolean {
  return ctx.accepts('json', 'html') === 'html' && ctx.method === 'GET';
}

/** Writes an error in the shape the client expects; used by the catch-all and the 404 handler. */
export function writeError(ctx: Context, status: number, code: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  if (wantsHtml(ctx)) {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(titleFor(status))}</title></head>` +
      `<body><main><h1>${escapeHtml(titleFor(status))}</h1><p>${escapeHtml(description)}</p>` +
      `<p><small>Request ID: ${escapeHtml(String(ctx.state.requestId ?? ''))}</small></p></main></body></html>`;
  } else {
    ctx.body = { error: code, error_description: description };
  }
}

function titleFor(status: number): string {
  if (status === 404) return 'Page not found';
  if (status === 503) return 'Service temporarily unavailable';
  if (status >= 500) return 'Something went wrong';
  return 'Request refused';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function catchErrors() {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) writeError(ctx, 404, 'not_found', `nothing is served at ${ctx.path}`);
    } catch (error) {
      if (error instanceof OAuthError) {
        if (error.wwwAuthenticate) ctx.set('WWW-Authenticate', error.wwwAuthenticate);
        writeError(ctx, error.status, error.code, error.description);
      } else if (error instanceof ClientAbortError) {
        // Logged where it was seen (readForm); nobody is left to answer.
      } else if (error instanceof BodyError) {
        writeError(ctx, error.status, 'invalid_request', error.message);
      } else if (error instanceof StorageUnavailableError) {
        (ctx.state.log as Logger | undefined)?.warn({ err: error.message }, 'storage unavailable');
        ctx.set('Retry-After', '1');
        writeError(ctx, 503, 'temporarily_unavailable', 'the service cannot reach its storage right now; try again shortly');
      } else {
        (ctx.state.log as Logger | undefined)?.error({ err: error }, 'unhandled error');
        writeError(ctx, 500, 'server_error', 'an unexpected error occurred; the request ID identifies it in the logs');
      }
    }
  };
}
