/**
 * The password form of a PasswordConnector (/auth/{connector}/login): GET shows it (login_hint
 * pre-filled), POST checks the browser binding, the CSRF token and the throttle, asks the connector,
 * and either shows the form again with the error tied to the fields or completes the login.
 */
import type { Context } from 'koa';
import type { PasswordConnector } from '../connector.js';
import { readForm, readQuery } from '../http/form.js';
import { allowedConnectors, loginGrantType } from '../oidc/authorize/check_connector.js';
import { subjectOf } from '../oidc/claims.js';
import type { AuthRequest } from '../storage/storage.js';
import { assertCsrf } from './csrf.js';
import { callConnector, LoginError } from './errors.js';
import { loadOwnAuthRequest } from './browser-binding.js';
import { connectorScopes } from './flow.js';
import { connectorFor, recordLogin, ruleRefusal, sendNextStep, type LoginDeps } from './handler.js';
import { sendPage } from './page.js';
import { passwordPage } from './pages/password.js';
import { finishConnectorLogin } from './session-login.js';
import { describeWait } from './throttle.js';

async function passwordConnector(deps: LoginDeps, authRequest: AuthRequest, connectorId: string | undefined) {
  const open = await connectorFor(deps, authRequest, connectorId);
  if (open.connector.kind !== 'password') {
    throw new LoginError('connector_not_found', 404, 'Unknown sign-in method', 'This sign-in method does not use a password form.');
  }
  return { open, connector: open.connector as PasswordConnector };
}

type PasswordStep = Awaited<ReturnType<typeof passwordConnector>>;

/** The username field's label: the connector's prompt, "Username" when it has none. */
const promptOf = (connector: PasswordConnector): string => connector.prompt() || 'Username';

async function showForm(ctx: Context, deps: LoginDeps, step: PasswordStep & { authRequest: AuthRequest }, status: number, username?: string, error?: string) {
  const { open, connector, authRequest } = step;
  const client = await deps.issuer.storage.clients.get(authRequest.clientId);
  const choices = allowedConnectors(deps.issuer, client, loginGrantType(deps.issuer, authRequest));
  sendPage(ctx, deps.theme, status, passwordPage({
    basePath: deps.issuer.basePath,
    connectorId: open.id,
    connectorName: open.name,
    clientName: client?.name || authRequest.clientId,
    authRequestId: authRequest.id,
    csrfToken: authRequest.csrfToken,
    redirectURI: authRequest.redirectURI,
    prompt: promptOf(connector),
    username,
    error,
    chooserURL: choices.length > 1 ? `${deps.issuer.basePath}/auth?req=${encodeURIComponent(authRequest.id)}` : undefined,
  }));
}

export async function handlePasswordForm(ctx: Context, deps: LoginDeps): Promise<void> {
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, readQuery(ctx).req);
  const step = { ...(await passwordConnector(deps, authRequest, ctx.params.connector)), authRequest };
  await showForm(ctx, deps, step, 200, authRequest.loginHint);
}

export async function handlePasswordLogin(ctx: Context, deps: LoginDeps): Promise<void> {
  const form = await readForm(ctx);
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, form.req);
  assertCsrf(authRequest, form);
  const step = { ...(await passwordConnector(deps, authRequest, ctx.params.connector)), authRequest };
  const { open, connector } = step;
  const username = (form.login ?? '').trim();
  const password = form.password ?? '';
  const base = { connectorId: open.id, clientId: authRequest.clientId, user: username || undefined };

  if (!username || !password) {
    return showForm(ctx, deps, step, 400, username, `Enter your ${promptOf(connector).toLowerCase()} and password.`);
  }
  const keys = [`user:${open.id}:${username.toLowerCase()}`, `ip:${deps.clientIP(ctx)}`];
  const locked = await deps.throttle.lockedFor(keys);
  if (locked > 0) {
    recordLogin(deps, { ...base, outcome: 'refused', reason: 'throttled' });
    return showForm(ctx, deps, step, 429, username, tooManyAttempts(locked));
  }

  const identity = await callConnector(open.name, () => connector.login(connectorScopes(authRequest, connector, undefined), username, password))
    .catch((error: LoginError) => {
      recordLogin(deps, { ...base, outcome: 'refused', reason: error.code, ...ruleRefusal(error) });
      throw error;
    });
  if (!identity) {
    const nowLocked = await deps.throttle.fail(keys);
    recordLogin(deps, { ...base, outcome: 'refused', reason: 'invalid_credentials' });
    if (nowLocked > 0) return showForm(ctx, deps, step, 429, username, tooManyAttempts(nowLocked));
    return showForm(ctx, deps, step, 401, username, `Incorrect ${promptOf(connector).toLowerCase()} or password.`);
  }

  await deps.throttle.reset(keys.slice(0, 1));
  recordLogin(deps, { ...base, outcome: 'succeeded', user: identity.email ?? identity.username, subject: subjectOf(identity.userId, open.id) });
  sendNextStep(ctx, deps, await finishConnectorLogin(ctx, deps, authRequest, open, identity));
}

function tooManyAttempts(ms: number): string {
  return `Too many failed attempts. Try again in ${describeWait(ms)}.`;
}
