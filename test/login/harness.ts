/**
 * A login-side test server: a real IssuerContext (parsed config, memory storage with the config's
 * clients and passwords laid over it, connectors opened by openConnectors) and a koa app with only
 * mountLoginRoutes, under /dex on 127.0.0.1. The signer is a stub that throws: the login side never
 * signs. Helpers drive it with fetch and manual redirects, as a browser without JavaScript would,
 * keeping its cookies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { manualClock } from '../../src/clock.js';
import { parseConfig, type Config } from '../../src/config/load.js';
import { requestContext } from '../../src/http/middleware.js';
import { staticClients, staticPasswords } from '../../src/issuer.js';
import type { Signer } from '../../src/keys/keyset.js';
import { openConnectors } from '../../src/login/connectors.js';
import { mountLoginRoutes } from '../../src/login/routes.js';
import { createLogoutNotifier } from '../../src/sessions/backchannel.js';
import type { IssuerContext, OpenConnector } from '../../src/oidc/context.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { withStatic } from '../../src/storage/static.js';
import { memoryAuditLog } from '../../src/telemetry/audit.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createIssuerMetrics } from '../../src/telemetry/metrics.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { parseForms } from '../helpers/http-login.js';

export const WEB_APP = { id: 'web-app', secret: 'd2ViLWFwcC1zZWNyZXQ', redirectURI: 'https://app.example.com/callback' };
export const SPA = { id: 'spa', redirectURI: 'https://spa.example.com/cb' };
export const ADMIN = { email: 'admin@example.com', password: 'password', userId: '08a8684b-db88-4b73-90a9-3cd1661f5466' };
/** A valid S256 challenge (of the RFC 7636 example verifier). */
export const CHALLENGE = 'E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

export const BASE_CONFIG = `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
staticClients:
  - id: ${WEB_APP.id}
    name: Web App
    secret: ${WEB_APP.secret}
    redirectURIs: [${WEB_APP.redirectURI}]
  - id: ${SPA.id}
    name: Single Page App
    public: true
    redirectURIs: [${SPA.redirectURI}]
enablePasswordDB: true
staticPasswords:
  - email: ${ADMIN.email}
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: ${ADMIN.userId}
    groups: [admins]
`;

export interface LoginServer {
  url: string;
  origin: string;
  context: IssuerContext;
  audit: ReturnType<typeof memoryAuditLog>;
  clock: ReturnType<typeof manualClock>;
  close(): Promise<void>;
}

export interface LoginServerOptions {
  /** YAML without `issuer:`; BASE_CONFIG by default. */
  config?: string;
  /** Connectors added after the configured ones (fakes for error paths). */
  extraConnectors?: OpenConnector[];
}

const noSigner: Signer = {
  jwks: () => Promise.reject(new Error('the login side must not use the signer')),
  algorithm: () => Promise.reject(new Error('the login side must not use the signer')),
  sign: () => Promise.reject(new Error('the login side must not use the signer')),
  jwksMaxAgeSeconds: () => Promise.reject(new Error('the login side must not use the signer')),
};

export async function startLoginServer(options: LoginServerOptions = {}): Promise<LoginServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}/dex`;
  const config: Config = parseConfig(`issuer: ${url}\n${options.config ?? BASE_CONFIG}`, 'test.yaml', {});
  const clock = manualClock(Date.now());
  const logger = silentLogger();
  const storage = withStatic(createStorage(createMemoryBackend(), { now: clock }), {
    clients: staticClients(config),
    passwords: config.enablePasswordDB ? staticPasswords(config) : [],
  });
  const connectors = await openConnectors(config, { storage, logger, now: clock, issuer: url });
  for (const extra of options.extraConnectors ?? []) connectors.set(extra.id, extra);
  const audit = memoryAuditLog();
  const context: IssuerContext = {
    config, issuer: url, basePath: '/dex', storage, signer: noSigner, connectors, logger, audit,
    metrics: createIssuerMetrics(), now: clock,
    backchannel: createLogoutNotifier({ storage, signer: noSigner, issuer: url, audit, logger, now: clock }),
  };
  const app = new Koa();
  app.use(requestContext(logger));
  const router = new Router({ prefix: '/dex' });
  mountLoginRoutes(router, context);
  app.use(router.routes());
  server.on('request', app.callback());
  return {
    url, origin, context, audit, clock,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** /dex/auth?<params> with sane defaults for the confidential web app. */
export function authURL(server: LoginServer, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  const all = { client_id: WEB_APP.id, redirect_uri: WEB_APP.redirectURI, response_type: 'code', scope: 'openid email', state: 'st-123', ...params };
  for (const [key, value] of Object.entries(all)) if (value !== undefined) query.set(key, value);
  return `${server.url}/auth?${query}`;
}

/**
 * The browser `get` and `postForm` act as: its cookies (the browser binding of every login) kept
 * across a test file's requests. A test passes another jar to be a second browser.
 */
export const BROWSER = new CookieJar();

export async function get(url: string, headers: Record<string, string> = {}, jar: CookieJar = BROWSER): Promise<Response> {
  const cookie = jar.header(url);
  const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html', ...(cookie ? { cookie } : {}), ...headers } });
  jar.store(url, response);
  return response;
}

export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}, jar: CookieJar = BROWSER): Promise<Response> {
  const cookie = jar.header(url);
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(cookie ? { cookie } : {}), ...headers },
    body: new URLSearchParams(fields),
  });
  jar.store(url, response);
  return response;
}

/** The Location header resolved against `base`. */
export function location(response: Response, base: string): URL {
  const value = response.headers.get('location');
  if (!value) throw new Error(`expected a redirect, got ${response.status}`);
  return new URL(value, base);
}

/** Starts /auth for a single-connector setup and returns the password form's action and hidden fields. */
export async function openPasswordForm(server: LoginServer, params: Record<string, string | undefined> = {}, jar: CookieJar = BROWSER) {
  const start = await get(authURL(server, params), {}, jar);
  const connectorStart = await get(location(start, server.url).toString(), {}, jar);
  const formURL = location(connectorStart, server.url).toString();
  const page = await get(formURL, {}, jar);
  const html = await page.text();
  const form = parseForms(html)[0]!;
  return { formURL, html, action: new URL(form.action, formURL).toString(), fields: form.fields, authRequestId: form.fields.req! };
}
