/**
 * What every login handler shares: its dependencies (issuer context, theme, throttle), a wrapper
 * that names the route for metrics and turns any failure into a readable error page, redirects with
 * the page headers, and the login metric + audit event (never a password).
 */
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { ClaimRuleError } from '../claims/connector-claims.js';
import { BodyError } from '../http/form.js';
import { allowedConnectors, loginGrantType } from '../oidc/authorize/check_connector.js';
import type { IssuerContext, OpenConnector } from '../oidc/context.js';
import { StorageUnavailableError, type AuthRequest } from '../storage/storage.js';
import type { ClientIPReader } from './client-ip.js';
import { LoginError, toLoginError } from './errors.js';
import type { NextStep } from './flow.js';
import { contentSecurityPolicy, sendPage, setSecurityHeaders } from './page.js';
import { errorPage } from './pages/error.js';
import { formPostPage } from './pages/form-post.js';
import { oobPage } from './pages/oob.js';
import type { Theme } from './theme.js';
import type { LoginThrottle } from './throttle.js';

export interface LoginDeps {
  issuer: IssuerContext;
  theme: Theme;
  throttle: LoginThrottle;
  /** Counts the authorization requests each client IP has stored (login.authRequests). */
  authRequestLimit: LoginThrottle;
  clientIP: ClientIPReader;
}

export type LoginHandler = (ctx: Context, deps: LoginDeps) => Promise<void>;

export function logOf(ctx: Context, deps: LoginDeps): Logger {
  return (ctx.state.log as Logger | undefined) ?? deps.issuer.logger;
}

export function requestIdOf(ctx: Context): string {
  return String(ctx.state.requestId ?? '-');
}

/** A koa middleware for `route` that runs `handler` and shows any error as a page. */
export function loginRoute(route: string, deps: LoginDeps, handler: LoginHandler) {
  return async function handleLoginRoute(ctx: Context): Promise<void> {
    ctx.state.route = route;
    try {
      await handler(ctx, deps);
    } catch (error) {
      showError(ctx, deps, error);
    }
  };
}

export function showError(ctx: Context, deps: LoginDeps, error: unknown, upstream?: string): void {
  const pageError = asPageError(error, upstream);
  const log = logOf(ctx, deps);
  if (pageError.status >= 500) log.error({ reason: pageError.code, err: causeMessage(pageError) }, 'login page error');
  // Not under `code`: the logger redacts that key (it usually holds an authorization code).
  else log.info({ reason: pageError.code, message: pageError.message }, 'login refused');
  sendPage(ctx, deps.theme, pageError.status, errorPage(pageError.title, pageError.message, requestIdOf(ctx)));
}

function asPageError(error: unknown, upstream?: string): LoginError {
  if (error instanceof BodyError) return new LoginError('bad_request', error.status, 'The request could not be read', error.message);
  if (error instanceof StorageUnavailableError) {
    return new LoginError('internal', 503, 'Service temporarily unavailable', 'Sign-in is unavailable for a moment. Try again shortly.', { cause: error });
  }
  return toLoginError(error, upstream);
}

function causeMessage(error: LoginError): string {
  const cause = error.cause;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : error.message;
}

/** Sends the browser on: a redirect, the form_post page, or the page with an out-of-band code. */
export function sendNextStep(ctx: Context, deps: LoginDeps, step: NextStep): void {
  if ('location' in step) redirect(ctx, step.location);
  else if ('formPost' in step) sendPage(ctx, deps.theme, 200, formPostPage(step.formPost.action, step.formPost.fields));
  else sendPage(ctx, deps.theme, 200, oobPage(step.oobCode));
}

/** 302, or 303 after a POST whose next step is a GET. */
export function redirect(ctx: Context, location: string, status: 302 | 303 = 302): void {
  setSecurityHeaders(ctx, contentSecurityPolicy({}));
  ctx.status = status;
  ctx.redirect(location);
}

/** The connector a login step names: it must be open and allowed for the request's client. */
export async function connectorFor(deps: LoginDeps, authRequest: AuthRequest, connectorId: string | undefined): Promise<OpenConnector> {
  const open = connectorId === undefined ? undefined : deps.issuer.connectors.get(connectorId);
  if (!open) throw new LoginError('connector_not_found', 404, 'Unknown sign-in method', 'This sign-in method does not exist or is not available right now.');
  const client = await deps.issuer.storage.clients.get(authRequest.clientId);
  if (!allowedConnectors(deps.issuer, client, loginGrantType(deps.issuer, authRequest)).some((c) => c.id === open.id)) {
    throw new LoginError('connector_not_allowed', 403, 'Sign-in method not allowed', 'This application does not allow this sign-in method.');
  }
  return open;
}

export interface LoginRecord {
  connectorId: string;
  outcome: 'succeeded' | 'refused';
  clientId: string;
  /** What the person typed or the connector named (email, username). */
  user?: string;
  /** The `sub` tokens will carry, once the login succeeded. */
  subject?: string;
  reason?: string;
  /** A claim rule that refused (claimValidationRules[0]), its message, and why it failed when it did not evaluate. */
  rule?: string;
  message?: string;
  detail?: string;
}

/** The claim rule behind a refusal (a ClaimRuleError, or a LoginError made from one), for the audit line. */
export function ruleRefusal(error: unknown): Pick<LoginRecord, 'rule' | 'message' | 'detail'> {
  const rule = error instanceof ClaimRuleError ? error : error instanceof LoginError && error.cause instanceof ClaimRuleError ? error.cause : undefined;
  if (!rule) return {};
  return { rule: rule.rule, message: rule.message, ...(rule.detail ? { detail: rule.detail } : {}) };
}

export function recordLogin(deps: LoginDeps, record: LoginRecord): void {
  deps.issuer.metrics.logins.inc({ connector: record.connectorId, result: record.outcome === 'succeeded' ? 'success' : 'failure' });
  deps.issuer.audit.write({ event: 'login', ...record });
}
