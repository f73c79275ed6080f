/**
 * Wiring for serve (server.ts): the traffic counters and their reporter beside a filter, and the
 * console's middleware for the telemetry listener, each with the storage it needs — the issuer's when
 * it runs in this process, else one opened from the config (closed with it).
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/load.js';
import { withConfigEntries } from '../../issuer.js';
import { openStorage } from '../../storage/open.js';
import type { Storage } from '../../storage/storage.js';
import { openAuditStream, type AuditLog } from '../../telemetry/audit.js';
import { createConsole } from './app.js';
import { TrafficCounters } from './traffic/counters.js';
import { TrafficReporter } from './traffic/report.js';
import type { Middleware } from 'koa';

export interface Started<T> {
  value: T;
  close(): Promise<void>;
}

/** Storage shared with other processes: the only kind worth flushing traffic to or reading it from. */
function isShared(config: Config): boolean {
  return config.storage.type !== 'memory';
}

/** The filter's traffic counters and reporter (flushing to shared storage when there is one). */
export async function startTrafficReports(config: Config, options: { issuerStorage?: Storage; logger: Logger; now: () => number }): Promise<Started<TrafficReporter>> {
  const filter = config.filter!;
  const flushes = isShared(config) && filter.trafficReports.interval > 0;
  const opened = flushes && !options.issuerStorage ? await openStorage(config.storage, { logger: options.logger }) : undefined;
  const storage = flushes ? (options.issuerStorage ?? opened) : undefined;
  const reporter = new TrafficReporter(new TrafficCounters(), {
    intervalMs: filter.trafficReports.interval, retentionMs: filter.trafficReports.retention, now: options.now, logger: options.logger,
    ...(storage ? { storage } : {}),
  });
  reporter.start();
  return {
    value: reporter,
    async close() {
      await reporter.close();
      await opened?.close();
    },
  };
}

export interface ConsoleOptions {
  issuer?: { storage: Storage; audit: AuditLog };
  reporter?: TrafficReporter;
  logger: Logger;
  now: () => number;
}

/** The console's middleware for the telemetry app. */
export async function startConsole(config: Config, options: ConsoleOptions): Promise<Started<Middleware>> {
  const opened = options.issuer ? undefined : withConfigEntries(await openStorage(config.storage, { logger: options.logger }), config);
  const storage = options.issuer?.storage ?? opened!;
  const stream = options.issuer ? undefined : openAuditStream(config.audit, options.now);
  const middleware = createConsole({
    config, storage, audit: options.issuer?.audit ?? stream!, logger: options.logger, now: options.now,
    issuerInProcess: options.issuer !== undefined,
    traffic: { ...(options.reporter ? { local: options.reporter } : {}), ...(isShared(config) ? { storage } : {}) },
  });
  return {
    value: middleware,
    async close() {
      await opened?.close();
      await stream?.end();
    },
  };
}
