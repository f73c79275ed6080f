/**
 * Everything the issuer's endpoints and login pages need, built once at start-up and passed in (no
 * module globals): the typed config, storage, the signer, the open connectors, logging, metrics and
 * the clock.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Connector } from '../connector.js';
import type { Signer } from '../keys/keyset.js';
import type { LogoutNotifier } from '../sessions/backchannel.js';
import type { Storage } from '../storage/storage.js';
import type { AuditLog } from '../telemetry/audit.js';
import type { IssuerMetrics } from '../telemetry/metrics.js';

export interface OpenConnector {
  id: string;
  type: string;
  name: string;
  connector: Connector;
  /** Grants it may serve (connectors[].grantTypes); absent: all. */
  grantTypes?: string[];
}

export interface IssuerContext {
  config: Config;
  /** The issuer URL as configured (no trailing slash); every route is relative to its path. */
  issuer: string;
  /** The issuer URL's path ("/dex"), "" at the root. */
  basePath: string;
  storage: Storage;
  signer: Signer;
  /**
   * In config order, the password DB (`local`, with enablePasswordDB) and then the connectors stored
   * through the management API; the latter are opened and closed in place as storage changes.
   */
  connectors: Map<string, OpenConnector>;
  logger: Logger;
  audit: AuditLog;
  metrics: IssuerMetrics;
  now: Clock;
  /** Tells clients that a login session ended (OpenID Back-Channel Logout), in the background. */
  backchannel: LogoutNotifier;
}

/** Dex's rule (GrantTypeAllowed): a connector without grantTypes, or with an empty list, serves every grant. */
export function connectorServesGrant(open: Pick<OpenConnector, 'grantTypes'>, grantType: string): boolean {
  return !open.grantTypes || open.grantTypes.length === 0 || open.grantTypes.includes(grantType);
}

/** The issuer URL tokens carry as `iss`: the configured one without a trailing slash. */
export function issuerUrl(config: Pick<Config, 'issuer'>): string {
  return config.issuer.replace(/\/+$/, '');
}

/** Per-request state koa middleware puts on ctx.state. */
export interface RequestState {
  requestId: string;
  log: Logger;
  /** The route template that matched, for metrics ("/token", "/auth/:connector"). */
  route?: string;
}
