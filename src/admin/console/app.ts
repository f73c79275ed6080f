/**
 * The console on the telemetry listener: every path under /console. Static files and the sign-in
 * routes are open; every other page needs a console session whose groups give a role (read-only or
 * admin), and every POST a matching CSRF token from a same-origin form. Anything that goes wrong is a
 * readable page (or a JSON error for the graph's data), never a stack trace.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Logger } from 'pino';
import { BodyError, readForm } from '../../http/form.js';
import { csrfTokenMatches } from '../../login/csrf.js';
import { StorageUnavailableError, type ConsoleSession } from '../../storage/storage.js';
import { loadConsoleAssets } from './assets.js';
import { ConsoleSignIn } from './auth/sign-in.js';
import { ConsoleSessions, cookieNames } from './auth/session.js';
import { CONSOLE_PATH, type ConsoleConfig } from './config.js';
import { buildConsoleModel, ConsoleModelCache } from './model.js';
import { clientsPage } from './pages/clients.js';
import { decisionsPage } from './pages/decisions.js';
import { explainForm, explainResult } from './pages/explain.js';
import { edgeDecisions, graphData, graphPage } from './pages/graph.js';
import { messagePage, sendConsolePage, type Role, type Viewer } from './pages/layout.js';
import { overviewPage } from './pages/overview.js';
import { policiesPage } from './pages/policies.js';
import { revokeSessionByAdmin, sessionsPage } from './pages/sessions.js';
import { ConsoleHttpError, type ConsoleDeps, type ConsoleRequest } from './request.js';

/** The role the groups give: admin before read-only; none is a 403 page. */
export function roleOf(groups: readonly string[], settings: Pick<ConsoleConfig, 'adminGroups' | 'readOnlyGroups'>): Role | undefined {
  if (groups.some((g) => settings.adminGroups.includes(g))) return 'admin';
  if (groups.some((g) => settings.readOnlyGroups.includes(g))) return 'read-only';
  return undefined;
}

export function createConsole(deps: ConsoleDeps): Middleware {
  const settings = deps.config.console;
  if (!settings?.clientSecret) throw new Error('console: no clientSecret (the config loader resolves it)');
  const secretSettings = { ...settings, clientSecret: settings.clientSecret };
  const sessions = new ConsoleSessions(deps.storage, cookieNames(settings.publicURL), settings.sessionLifetime, deps.now);
  const signIn = new ConsoleSignIn(deps.config.issuer, secretSettings, sessions, deps.logger);
  const models = new ConsoleModelCache(() => buildConsoleModel(deps.config, { issuerInProcess: deps.issuerInProcess, now: deps.now }), deps.now);
  const assets = loadConsoleAssets();
  const origin = new URL(settings.publicURL).origin;
  const router = new Router({ prefix: CONSOLE_PATH });

  router.get('/static/:file', (ctx) => {
    const asset = assets.get(ctx.params.file ?? '');
    if (!asset) throw new ConsoleHttpError(404, 'Not found', 'There is no such file.');
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = asset.type;
    ctx.body = asset.body;
  });
  router.get('/login', (ctx) => signIn.start(ctx));
  router.get(settings.redirectPath.slice(CONSOLE_PATH.length), async (ctx) => {
    const user = await signIn.callback(ctx);
    if (!user) return;
    const { returnTo, ...identity } = user;
    await sessions.create(ctx, identity);
    // A page, not a redirect: the SameSite=Strict cookie is sent on the navigation it starts (same site),
    // not on a redirect chain that began at the issuer (another site).
    sendConsolePage(ctx, 200, { title: 'Signed in', refreshTo: returnTo, body: messagePage('', `Signed in as ${identity.name}.`, { href: returnTo, label: 'Continue' }).body });
  });

  const viewerOf = async (ctx: Context, next: Next): Promise<void> => {
    const session = await sessions.current(ctx);
    if (!session?.user) {
      if (ctx.method === 'GET' && !ctx.path.startsWith(`${CONSOLE_PATH}/api/`)) {
        ctx.redirect(`${CONSOLE_PATH}/login?returnTo=${encodeURIComponent(ctx.originalUrl)}`);
        return;
      }
      throw new ConsoleHttpError(401, 'Not signed in', 'Sign in to the console first.');
    }
    const role = roleOf(session.user.groups, settings);
    if (!role) {
      const groups = session.user.groups.length > 0 ? session.user.groups.join(', ') : 'none';
      sendConsolePage(ctx, 403, {
        ...messagePage('No access', `You are signed in as ${session.user.name}${session.user.email && session.user.email !== session.user.name ? ` (${session.user.email})` : ''}, but none of your groups (${groups}) may use the console. Ask for one of: ${[...settings.adminGroups, ...settings.readOnlyGroups].join(', ')}.`),
        viewer: { name: session.user.name, role: 'read-only', csrfToken: session.csrfToken },
        noNavigation: true,
      });
      return;
    }
    if (ctx.method === 'POST') await checkCsrf(ctx, session, origin);
    const viewer: Viewer = { name: session.user.name, role, csrfToken: session.csrfToken };
    const request: ConsoleRequest = {
      ctx, viewer, session, deps,
      model: () => models.get(),
      async render(status, page) {
        sendConsolePage(ctx, status, { ...page, viewer, mesh: (await models.get()).mesh });
      },
    };
    ctx.state.console = request;
    await next();
  };

  const page = (handler: (request: ConsoleRequest) => Promise<void>) => (ctx: Context) => handler(ctx.state.console as ConsoleRequest);
  router.post('/logout', viewerOf, async (ctx) => {
    await sessions.end(ctx, (ctx.state.console as ConsoleRequest).session);
    sendConsolePage(ctx, 200, messagePage('Signed out', 'You are signed out of the console.', { href: `${CONSOLE_PATH}/login`, label: 'Sign in again' }));
  });
  router.get('/', viewerOf, page(overviewPage));
  router.get('/policies', viewerOf, page(policiesPage));
  router.get('/graph', viewerOf, page(graphPage));
  router.get('/api/graph', viewerOf, page(graphData));
  router.get('/api/edge', viewerOf, page(edgeDecisions));
  router.get('/explain', viewerOf, page(explainForm));
  router.post('/explain', viewerOf, page(explainResult));
  router.get('/decisions', viewerOf, page(decisionsPage));
  router.get('/sessions', viewerOf, page(sessionsPage));
  router.post('/sessions/revoke', viewerOf, page(revokeSessionByAdmin));
  router.get('/clients', viewerOf, page(clientsPage));

  // The router's context type adds its params; the telemetry app hands it a plain koa context.
  const routes = router.routes() as unknown as Middleware;
  const methods = router.allowedMethods() as unknown as Middleware;
  return async function consoleRoutes(ctx, next) {
    if (ctx.path !== CONSOLE_PATH && !ctx.path.startsWith(`${CONSOLE_PATH}/`)) return next();
    if (ctx.path === CONSOLE_PATH) {
      ctx.redirect(`${CONSOLE_PATH}/`);
      return;
    }
    try {
      await routes(ctx, () => methods(ctx, async () => undefined));
      if (ctx.status === 405) throw new ConsoleHttpError(405, 'Method not allowed', `${ctx.method} is not used on this page.`);
      if (ctx.status === 404 && ctx.body === undefined) throw new ConsoleHttpError(404, 'Not found', 'There is no such page in the console.');
    } catch (error) {
      answerError(ctx, error, deps.logger);
    }
  };
}

/** A POST must come from a console page: the session's CSRF token, and (when the browser says) this origin. */
async function checkCsrf(ctx: Context, session: ConsoleSession, origin: string): Promise<void> {
  // "null" (an opaque origin) says nothing either way; the token below decides.
  const from = ctx.get('origin');
  if (from && from !== 'null' && from !== origin) throw new ConsoleHttpError(403, 'Request refused', 'This form was not sent from a console page (its origin differs).');
  const form = await readForm(ctx);
  if (!csrfTokenMatches(session.csrfToken, form.csrf)) throw new ConsoleHttpError(403, 'Request refused', 'This form has expired or was not sent from a console page. Reload the page and try again.');
}

function answerError(ctx: Context, error: unknown, logger: Logger): void {
  let status = 500;
  let title = 'Something went wrong';
  let message = 'The console could not answer this request; the log says why.';
  if (error instanceof ConsoleHttpError) ({ status, title, message } = error);
  else if (error instanceof BodyError) [status, title, message] = [error.status, 'Bad request', error.message];
  else if (error instanceof StorageUnavailableError) [status, title, message] = [503, 'Storage unavailable', 'The storage cannot be reached right now. Try again in a moment.'];
  else logger.error({ err: { message: (error as Error)?.message ?? String(error), stack: (error as Error)?.stack } }, 'console request failed');
  if (ctx.path.startsWith(`${CONSOLE_PATH}/api/`)) {
    ctx.status = status;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: title, error_description: message };
    return;
  }
  sendConsolePage(ctx, status, messagePage(title, message, { href: `${CONSOLE_PATH}/`, label: 'Back to the console' }));
}
