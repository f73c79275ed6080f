/**
 * Builds the issuer face from a validated config: storage (with the config's static clients,
 * passwords and connectors laid over it), the signer, the connectors (the config's, then the stored
 * ones, kept in step by connector-sync.ts), and the koa app that serves every issuer route under the
 * issuer URL's path.
 */
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { clientMetadataOf, type Config } from './config/load.js';
import { catchErrors, configuredHeaders, observeRequests, requestContext, securityHeaders, traceRequests } from './http/middleware.js';
import { createSigner } from './keys/signer.js';
import { createLogoutNotifier, type DeliveryPolicy } from './sessions/backchannel.js';
import { createConnectorSync } from './login/connector-sync.js';
import { openConnectors } from './login/connectors.js';
import { clientIPReader } from './login/client-ip.js';
import { mountLoginRoutes } from './login/routes.js';
import { clientCertificateReader } from './oidc/client-certificate.js';
import { issuerUrl, type IssuerContext } from './oidc/context.js';
import { mountIntrospectionRoutes } from './oidc/introspection.js';
import { mountRevocationRoutes } from './oidc/revoke-endpoint.js';
import { mountTokenRoutes } from './oidc/routes.js';
import { openStorage } from './storage/open.js';
import { withStatic } from './storage/static.js';
import { traceStorage } from './storage/traced.js';
import { hashSecret } from './storage/secrets.js';
import type { Client, ConnectorRecord, Password, Storage } from './storage/storage.js';
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
  /** How back-channel logout tokens are retried (DEFAULT_DELIVERY_POLICY by default; tests go faster). */
  backchannelPolicy?: DeliveryPolicy;
  /** How often stored connectors are re-listed (DEFAULT_CONNECTOR_REFRESH_MS by default; tests go faster). */
  connectorRefreshMs?: number;
}

export interface Issuer {
  context: IssuerContext;
  app: Koa;
  /** Starts background work: key rotation checks, the re-list of stored connectors. */
  start(): void;
  /** Re-reads the stored connectors now (after a change through the management API); never rejects. */
  refreshConnectors(): Promise<void>;
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

/**
 * The config file's connectors (and the password DB as `local`) as static records, so storage refuses
 * to change them and the management API lists them. Their config is not carried: it is the config
 * file's (secrets included) and the open connectors already have it.
 */
export function staticConnectors(config: Config): ConnectorRecord[] {
  const records: ConnectorRecord[] = config.connectors.map((entry) => ({
    id: entry.id, type: entry.type, name: entry.name, config: undefined,
    ...(entry.grantTypes ? { grantTypes: entry.grantTypes } : {}), static: true,
  }));
  if (config.enablePasswordDB) records.push({ id: 'local', type: 'local', name: 'Email', config: undefined, static: true });
  return records;
}

/** `storage` with the config file's clients, passwords and connectors laid over it, read-only. */
export function withConfigEntries(storage: Storage, config: Config): Storage {
  return withStatic(storage, {
    clients: staticClients(config),
    passwords: config.enablePasswordDB ? staticPasswords(config) : [],
    connectors: staticConnectors(config),
  });
}

export async function buildIssuer(config: Config, options: IssuerOptions): Promise<Issuer> {
  const now = options.now ?? systemClock;
  const logger = options.logger;
  const openedStorage = options.storage ?? (await openStorage(config.storage, { now, logger }));
  const baseStorage = options.tracing ? traceStorage(openedStorage, options.tracing, config.storage.type) : openedStorage;
  const storage = withConfigEntries(baseStorage, config);
  const signer = await createSigner(storage, {
    algorithm: config.signer.config.algorithm,
    rotationPeriod: config.keysRotationPeriod,
    tokenLifetime: Math.max(config.expiry.idTokens, config.expiry.accessTokens),
    now,
    logger: logger.child({ component: 'keys' }),
  });
  const issuer = issuerUrl(config);
  const connectorDeps = { storage, logger, now, issuer, ...(options.tracing ? { tracing: options.tracing } : {}) };
  const connectors = await openConnectors(config, connectorDeps);
  const connectorSync = createConnectorSync(connectors, {
    ...connectorDeps,
    ...(options.connectorRefreshMs !== undefined ? { intervalMs: options.connectorRefreshMs } : {}),
  });
  await connectorSync.refresh();
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
    backchannel: createLogoutNotifier({
      storage, signer, issuer, audit, now, logger: logger.child({ component: 'backchannel-logout' }),
      ...(options.backchannelPolicy ? { policy: options.backchannelPolicy } : {}),
    }),
  };
  // Reads web.tlsClientCA now, so a bundle that does not load stops the start rather than a request.
  clientCertificateReader(context);
  const app = createIssuerApp(context, options.tracing);
  return {
    context,
    app,
    start() {
      signer.start();
      connectorSync.start();
    },
    refreshConnectors: () => connectorSync.refresh(),
    async close() {
      signer.stop();
      await context.backchannel.close();
      await connectorSync.stop();
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
  app.use(observeRequests(context.metrics, context.logger));
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
  mountIntrospectionRoutes(router, context);
  mountLoginRoutes(router, context);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
