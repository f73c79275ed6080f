/**
 * Builds the listeners the config asks for: the issuer's web listener (HTTP and/or HTTPS), the
 * management API (Dex's gRPC API, `grpc:`), the telemetry/admin listener (metrics, health, the
 * console), and the filter's ext_authz listeners; and stops them gracefully.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { startAdminApi } from './admin/api/server.js';
import { startConsole, startTrafficReports } from './admin/console/start.js';
import type { TrafficReporter } from './admin/console/traffic/report.js';
import { startFilter, type PolicyReload, type ReloadTrigger, type RunningFilter } from './authz/index.js';
import { startFilterRevocations } from './authz/revocations.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/load.js';
import { splitAddress } from './config/listen-address.js';
import { buildIssuer, type Issuer } from './issuer.js';
import { startGarbageCollection } from './storage/open.js';
import { TLS_VERSIONS } from './config/schema.js';
import { createIssuerMetrics } from './telemetry/metrics.js';
import { createProfiler, profileSeconds, MAX_CPU_PROFILE_SECONDS, ProfilerBusyError, type Profiler } from './telemetry/profiling.js';
import { startTracing, type Tracing } from './telemetry/tracing.js';
import { packageVersion } from './version.js';

export interface RunningServer {
  /** Base URLs of what is listening, e.g. { web: 'http://127.0.0.1:5556' }. */
  urls: { web?: string; webTls?: string; telemetry?: string; filterGrpc?: string; filterHttp?: string; grpc?: string };
  issuer?: Issuer;
  /**
   * Re-reads what can change without a restart: the filter's policies, when a filter runs (`filter` is
   * then the outcome). Never rejects; a refused set leaves the previous one in force.
   */
  reload(trigger?: Extract<ReloadTrigger, 'signal' | 'api'>): Promise<{ filter?: PolicyReload }>;
  close(): Promise<void>;
}

export interface ServerOptions {
  logger: Logger;
  now?: Clock;
  /** Override listen addresses (tests pick free ports with port 0). */
  listen?: { web?: string; telemetry?: string };
  /** Delay before the first storage gc run (tests). */
  gcFirstRunMs?: number;
  /**
   * The tracing config.telemetry.tracing asks for, started by the caller (so its logger names trace
   * ids) and shut down by it. Without it, startServer starts (and on close shuts down) its own.
   */
  tracing?: Tracing;
}

export async function startServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger;
  const now = options.now ?? systemClock;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'idgate_' });
  const closers: Array<() => Promise<void>> = [];
  const urls: RunningServer['urls'] = {};
  let issuer: Issuer | undefined;
  let filter: RunningFilter | undefined;
  const readiness: ReadinessChecks = {};
  const ownTracing = options.tracing === undefined && config.telemetry.tracing ? startTracing(config.telemetry.tracing) : undefined;
  const tracing = options.tracing ?? ownTracing;
  if (ownTracing) closers.push(() => ownTracing.shutdown());

  try {
    const webAddress = options.listen?.web ?? config.web.http;
    if (webAddress || config.web.https) {
      issuer = await buildIssuer(config, { logger, now, metrics: createIssuerMetrics(registry), ...(tracing ? { tracing } : {}) });
      const storage = issuer.context.storage;
      readiness.storage = () => storage.ping();
      const opened = issuer.context.connectors;
      const unopened = config.connectors.map((entry) => entry.id).filter((id) => !opened.has(id));
      if (unopened.length > 0) {
        const message = `failed to open: ${unopened.join(', ')} (the log says why)`;
        readiness.connectors = () => Promise.reject(new Error(message));
      }
      issuer.start();
      const stopGc = startGarbageCollection(storage, {
        now,
        logger,
        ...(config.storage.gcInterval !== undefined ? { intervalMs: config.storage.gcInterval } : {}),
        ...(options.gcFirstRunMs !== undefined ? { firstRunMs: options.gcFirstRunMs } : {}),
      });
      const built = issuer;
      closers.push(async () => {
        stopGc();
        await built.close();
      });
      const callback = issuer.app.callback();
      if (webAddress) {
        const server = http.createServer(callback);
        urls.web = await listen(server, webAddress);
        closers.unshift(() => closeServer(server));
        logger.info({ url: urls.web, issuer: config.issuer }, 'issuer listening');
      }
      if (config.web.https && config.web.tlsCert && config.web.tlsKey) {
        const server = https.createServer(
          {
            cert: readFileSync(config.web.tlsCert),
            key: readFileSync(config.web.tlsKey),
            minVersion: TLS_VERSIONS[config.web.tlsMinVersion ?? '1.2'],
            maxVersion: TLS_VERSIONS[config.web.tlsMaxVersion ?? '1.3'],
            // web.tlsClientCA: ask for a client certificate (RFC 8705) but never require one, so browsers
            // and other clients without one still sign in; whether it verified is the request's to read.
            ...(config.web.tlsClientCA ? { requestCert: true, rejectUnauthorized: false, ca: readFileSync(config.web.tlsClientCA) } : {}),
          },
          callback,
        );
        urls.webTls = (await listen(server, config.web.https)).replace('http:', 'https:');
        closers.unshift(() => closeServer(server));
        logger.info({ url: urls.webTls }, 'issuer listening (TLS)');
      }
      if (config.grpc) {
        const api = await startAdminApi(config.grpc, { issuer, version: packageVersion(), logger });
        urls.grpc = `${config.grpc.addr.replace(/:\d+$/, '')}:${api.port}`;
        closers.unshift(() => api.close());
      }
    }

    let traffic: TrafficReporter | undefined;
    if (config.filter) {
      const reports = await startTrafficReports(config, { ...(issuer ? { issuerStorage: issuer.context.storage } : {}), logger: logger.child({ component: 'traffic' }), now });
      traffic = reports.value;
      closers.unshift(() => reports.close());
      const revocations = await startFilterRevocations(config.storage, {
        ...(issuer ? { issuerStorage: issuer.context.storage } : {}),
        logger: logger.child({ component: 'revocations' }),
      });
      if (revocations) closers.unshift(() => revocations.close());
      filter = await startFilter({
        config: config.filter,
        logger: logger.child({ component: 'filter' }),
        registry,
        keySet: issuer?.context.signer,
        issuer: issuer ? issuer.context.issuer : undefined,
        now,
        ...(revocations ? { revocations: revocations.list, revoke: revocations.revoke } : {}),
        ...(tracing ? { tracing } : {}),
        observer: traffic.counters,
      });
      const started = filter;
      closers.unshift(() => started.close());
      // Started means policies loaded and the revocation feed live. A filter stays ready while the
      // database is away: it decides with the revocations it holds (taking every filter out of the
      // balancer for a database blip would stop all traffic) and re-reads them when it reconnects.
      readiness.filter = async () => undefined;
      if (filter.grpcPort !== undefined) urls.filterGrpc = `127.0.0.1:${filter.grpcPort}`;
      if (filter.httpPort !== undefined) urls.filterHttp = `http://127.0.0.1:${filter.httpPort}`;
    }

    const telemetryAddress = options.listen?.telemetry ?? config.telemetry.http;
    if (telemetryAddress) {
      const profiler = config.telemetry.enableProfiling ? createProfiler() : undefined;
      const consoleApp = config.console
        ? await startConsole(config, { ...(issuer ? { issuer: issuer.context } : {}), ...(traffic ? { reporter: traffic } : {}), logger: logger.child({ component: 'console' }), now })
        : undefined;
      if (consoleApp) closers.push(() => consoleApp.close());
      const server = http.createServer(createTelemetryApp(registry, readiness, profiler, consoleApp?.value).callback());
      urls.telemetry = await listen(server, telemetryAddress);
      closers.unshift(() => closeServer(server));
      logger.info({ url: urls.telemetry, profiling: Boolean(profiler), console: Boolean(consoleApp) }, 'telemetry listening');
    }
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    urls,
    issuer,
    async reload(trigger = 'api') {
      return filter ? { filter: await filter.reload(trigger) } : {};
    },
    close() {
      closing ??= (async () => {
        for (const close of closers) {
          await close().catch((error: unknown) => logger.warn({ err: error }, 'error while shutting down'));
        }
      })();
      return closing;
    },
  };
}

/** What /healthz/ready checks, by name: `storage` (reachable) with an issuer, `filter` with a filter. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

/** Runs every check (each bounded); the result per check is "ok" or why it failed. */
async function runReadinessChecks(checks: ReadinessChecks): Promise<{ ready: boolean; results: Record<string, string> }> {
  const names = Object.keys(checks);
  const outcomes = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!(), 2_000)));
  const results = Object.fromEntries(names.map((name, i) => {
    const outcome = outcomes[i]!;
    return [name, outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as Error).message];
  }));
  return { ready: outcomes.every((outcome) => outcome.status === 'fulfilled'), results };
}

/**
 * /metrics, /healthz, /healthz/live, /healthz/ready (every readiness check passes); with a profiler
 * (telemetry.enableProfiling), /debug/profile/cpu?seconds=N and /debug/profile/heap; with the console
 * (config.console), everything under /console.
 */
export function createTelemetryApp(registry: Registry, readiness: ReadinessChecks, profiler?: Profiler, consoleApp?: Koa.Middleware): Koa {
  const app = new Koa();
  app.silent = true;
  if (consoleApp) app.use(consoleApp);
  app.use(async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      return;
    }
    switch (ctx.path) {
      case '/metrics':
        ctx.type = registry.contentType;
        ctx.body = await registry.metrics();
        return;
      case '/healthz':
      case '/healthz/live':
        ctx.body = { status: 'ok' };
        return;
      case '/healthz/ready': {
        const { ready, results } = await runReadinessChecks(readiness);
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? 'ready' : 'not ready', checks: results };
        return;
      }
      case '/debug/profile/cpu':
      case '/debug/profile/heap':
        // GET only: a HEAD would take the whole profile to answer nothing.
        if (profiler && ctx.method === 'GET') await serveProfile(ctx, profiler);
        else if (profiler) ctx.status = 405;
        else notFound(ctx);
        return;
      default:
        notFound(ctx);
    }
  });
  return app;
}

function notFound(ctx: Koa.Context): void {
  ctx.status = 404;
  ctx.body = { error: 'not_found' };
}

async function serveProfile(ctx: Koa.Context, profiler: Profiler): Promise<void> {
  try {
    if (ctx.path === '/debug/profile/heap') {
      ctx.type = 'application/json';
      ctx.attachment(`idgate-${Date.now()}.heapsnapshot`);
      ctx.body = profiler.heap();
      return;
    }
    const seconds = profileSeconds(typeof ctx.query.seconds === 'string' ? ctx.query.seconds : undefined);
    if (seconds === undefined) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: `seconds must be a whole number from 1 to ${MAX_CPU_PROFILE_SECONDS}` };
      return;
    }
    const profile = await profiler.cpu(seconds);
    ctx.type = 'application/json';
    ctx.attachment(`idgate-${Date.now()}.cpuprofile`);
    ctx.body = profile;
  } catch (error) {
    if (!(error instanceof ProfilerBusyError)) throw error;
    ctx.status = 409;
    ctx.body = { error: 'busy', error_description: error.message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function listen(server: http.Server | https.Server, address: string): Promise<string> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve(`http://${shownHost}:${bound.port}`);
    });
  });
}

/** Stops accepting, lets in-flight requests finish (bounded), then closes idle keep-alive sockets. */
function closeServer(server: http.Server | https.Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
