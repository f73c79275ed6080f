/**
 * Builds the issuer face from a validated config: storage (with the config's static clients and
 * passwords laid over it), the signer, the connectors, and the koa app that serves every issuer route
 * under the issuer URL's path.
 */
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { clientMetadataOf, type Config } from './config/load.js';
import { catchErrors, configuredHeaders, observeRequests, requestContext, securityHeaders, traceRequests } from './http/middleware.js';
import { createSigner } from './keys/signer.js';
import { openConnectors } from './login/connectors.js';
import { clientIPReader } from './login/client-ip.js';
import { mountLoginRoutes } from './login/routes.js';
import { issuerUrl, type IssuerContext } from './oidc/context.js';
import { mountRevocationRoutes } from './oidc/revoke-endpoint.js';
import { mountTokenRoutes } from './oidc/routes.js';
import { openStorage } from './storage/open.js';
import { withStatic } from './storage/static.js';
import { traceStorage } from './storage/traced.js';
import { hashSecret } from './storage/secrets.js';
import type { Client, Password, Storage } from './storage/storage.js';
import { auditRequests, openAuditStream, type AuditLog, type AuditStream } from './telemetry/audit.js';
import { createIssuerMetrics, type IssuerMetrics } from './telemetry/metrics.js';
import type { Tracing } from './telemetry/tracing.js';

export interface IssuerOptions {
  logger: Logger;
  metrics?: IssuerMetrics;
  /** Where audit events go instead of the stream config.audit asks for (tests). */
  audit?: AuditLog;
  now?: Clock;
  /** Use this storage instead of opening config.storage (tests); the caller closes it. */
  storage?: Storage;
  /** Traces (telemetry.tracing): a span per request, connector call and storage operation. */
  tracing?: Tracing;
}

export interface Issuer {
  context: IssuerContext;
  app: Koa;
  /** Starts background work: key rotation checks. */
  start(): void;
  close(): Promise<void>;
}

export function staticClients(config: Config): Client[] {
  return config.staticClients.map((client) => ({
    id: client.id,
    secretHash: client.secret === null ? null : hashSecret(client.secret),
    redirectURIs: client.redirectURIs,
    trustedPeers: client.trustedPeers,
    public: client.public,
    name: client.name,
    logoURL: client.logoURL,
    allowedConnectors: client.allowedConnectors,
    requirePKCE: client.requirePKCE,
    ...clientMetadataOf(client),
    static: true,
  }));
}

export function staticPasswords(config: Config): Password[] {
  return config.staticPasswords.map((entry) => ({
    id: entry.email,
    email: entry.email,
    hash: entry.hash,
    username: entry.username,
    userId: entry.userID,
    groups: entry.groups,
    preferredUsername: entry.preferredUsername,
    emailVerified: entry.emailVerified,
    static: true,
  }));
}

export async function buildIssuer(config: Config, options: IssuerOptions): Promise<Issuer> {
  const now = options.now ?? systemClock;
  const logger = options.logger;
  const openedStorage = options.storage ?? (await openStorage(config.storage, { now, logger }));
  const baseStorage = options.tracing ? traceStorage(openedStorage, options.tracing, config.storage.type) : openedStorage;
  const storage = withStatic(baseStorage, {
    clients: staticClients(config),
    passwords: config.enablePasswordDB ? staticPasswords(config) : [],
    connectors: [],
  });
  const signer = await createSigner(storage, {
    algorithm: config.signer.config.algorithm,
    rotationPeriod: config.keysRotationPeriod,
    tokenLifetime: Math.max(config.expiry.idTokens, config.expiry.accessTokens),
    now,
    logger: logger.child({ component: 'keys' }),
  });
  const issuer = issuerUrl(config);
  const connectors = await openConnectors(config, { storage, logger, now, issuer, ...(options.tracing ? { tracing: options.tracing } : {}) });
  // A stream of our own (config.audit) is ours to end on close; one handed in is the caller's.
  let ownStream: AuditStream | undefined;
  const audit = options.audit ?? (ownStream = openAuditStream(config.audit, now));
  const context: IssuerContext = {
    config,
    issuer,
    basePath: new URL(issuer).pathname.replace(/\/+$/, ''),
    storage,
    signer,
    connectors,
    logger,
    audit,
    metrics: options.metrics ?? createIssuerMetrics(),
    now,
  };
  const app = createIssuerApp(context, options.tracing);
  return {
    context,
    app,
    start: () => signer.start(),
    async close() {
      signer.stop();
      await Promise.allSettled([...connectors.values()].map((open) => open.connector.close?.()));
      // Storage handed in by the caller (tests, replicas sharing one store) is the caller's to close.
      if (!options.storage) await storage.close();
      await ownStream?.end();
    },
  };
}

export function createIssuerApp(context: IssuerContext, tracing?: Tracing): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  if (tracing) app.use(traceRequests(tracing));
  app.use(requestContext(context.logger));
  app.use(auditRequests(context.audit, clientIPReader(context.config)));
  app.use(observeRequests(context.metrics));
  app.use(securityHeaders());
  app.use(configuredHeaders(context.config.web.headers));
  app.use(catchErrors());
  const router = new Router({ prefix: context.basePath || undefined });
  router.get('/healthz', (ctx) => {
    ctx.state.route = '/healthz';
    ctx.body = { status: 'ok' };
  });
  mountTokenRoutes(router, context);
  mountRevocationRoutes(router, context);
  mountLoginRoutes(router, context);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
