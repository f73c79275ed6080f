/**
 * What the console's page handlers share: the dependencies the console is built with, the request a
 * handler gets (who is viewing, the policy model, how to render), and the error that becomes a page.
 */
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../../config/load.js';
import type { ConsoleSession, Storage } from '../../storage/storage.js';
import type { AuditLog } from '../../telemetry/audit.js';
import type { ConsoleModel } from './model.js';
import type { ConsolePage, Viewer } from './pages/layout.js';
import type { TrafficSources } from './traffic/window.js';

export interface ConsoleDeps {
  config: Config;
  /** The issuer's storage (with the config's static clients and connectors), or one opened for the console. */
  storage: Storage;
  /** The issuer's audit stream: session revocations are written there. */
  audit: AuditLog;
  traffic: TrafficSources;
  logger: Logger;
  now: () => number;
  /** The issuer runs in this process (its tokens verify in explain through discovery). */
  issuerInProcess: boolean;
}

/** What a page handler gets: the request, the viewer, the policy model (built on demand). */
export interface ConsoleRequest {
  ctx: Context;
  viewer: Viewer;
  session: ConsoleSession;
  deps: ConsoleDeps;
  model(): Promise<ConsoleModel>;
  render(status: number, page: Omit<ConsolePage, 'viewer' | 'mesh'>): Promise<void>;
}

export class ConsoleHttpError extends Error {
  constructor(readonly status: number, readonly title: string, message: string) {
    super(message);
  }
}
