/**
 * The ingress auth filter's entry point: `startFilter` loads and compiles the policies, starts the
 * key sources, the gRPC and HTTP ext_authz listeners the config asks for, the audit trail and the
 * policy watcher; `reload` swaps in a new policy set atomically (or keeps the old one on error).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { VerificationKeySet } from '../keys/keyset.js';
import { openAuditSink, type AuditSink } from './audit.js';
import type { CheckInput, CheckResult } from './check-input.js';
import type { FilterConfig } from './config.js';
import { DecisionEngine } from './decide.js';
import { DecisionRecorder } from './decision-recorder.js';
import { FilterError, PolicyError } from './errors.js';
import { Authenticator } from './jwt/authenticate.js';
import { createFilterMetrics } from './metrics.js';
import { compileIpMatcher } from './policy/ip-match.js';
import { buildPolicySet, watchPolicies } from './policy-store.js';
import type { RevocationCheck } from './revocations.js';
import { startGrpcServer } from './transport/grpc-server.js';
import { startHttpServer } from './transport/http-server.js';

export type { FilterConfig } from './config.js';
export type { CheckInput, CheckResult } from './check-input.js';

export interface StartFilterOptions {
  config: FilterConfig;
  logger: Logger;
  registry: Registry;
  /** idgate's own issuer keys when the issuer runs in this process. */
  keySet?: VerificationKeySet;
  /** idgate's own issuer URL (tokens with this iss verify through keySet). */
  issuer?: string;
  now?: () => number;
  /** Where audit lines go; by default config.audit (stdout or a file). */
  auditSink?: AuditSink;
  /** Revoked sessions (sid) and tokens (jti): the deny-list fed by the storage's revocation feed. */
  revocations?: RevocationCheck;
}

export interface RunningFilter {
  grpcPort?: number;
  httpPort?: number;
  reload(): Promise<void>;
  close(): Promise<void>;
  /** Decides one request without a transport (tests, explain, benchmarks). */
  check(input: CheckInput): Promise<CheckResult>;
}

export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d{1,5})$/.exec(address);
  if (!match) throw new FilterError('ERR_FILTER_LISTEN', `"${address}" is not a listen address (use host:port)`);
  return { host: match[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(match[2]) };
}

export async function startFilter(options: StartFilterOptions): Promise<RunningFilter> {
  const { config, logger, registry } = options;
  const now = options.now ?? Date.now;
  const metrics = createFilterMetrics(registry);
  const authenticator = new Authenticator({
    config, logger, now,
    ...(options.keySet ? { keySet: options.keySet } : {}),
    ...(options.issuer ? { issuer: options.issuer } : {}),
    onJwksFetch: (source, ok) => metrics.jwksFetches.inc({ source, result: ok ? 'ok' : 'error' }),
  });
  const storeOptions = { config, logger, authenticator, ...(options.issuer ? { issuer: options.issuer } : {}) };
  let engine: DecisionEngine;
  try {
    engine = new DecisionEngine(config, await buildPolicySet(storeOptions), authenticator, options.revocations);
    metrics.reloads.inc({ result: 'ok' });
  } catch (error) {
    metrics.reloads.inc({ result: 'error' });
    authenticator.close();
    throw error;
  }
  const sink = options.auditSink ?? (config.audit.enabled ? openAuditSink(config.audit.file) : undefined);
  const recorder = new DecisionRecorder(metrics, sink, now);
  const handler = { check: (input: CheckInput) => engine.check(input), record: recorder.record.bind(recorder) };

  // Reloads run one after another (a chain), so the newest files always win the last swap.
  let reloads: Promise<void> = Promise.resolve();
  const reloadOnce = async (): Promise<void> => {
    try {
      engine.swap(await buildPolicySet(storeOptions));
      metrics.reloads.inc({ result: 'ok' });
      logger.info({ policies: engine.policySet.policies.length }, 'policies reloaded');
    } catch (error) {
      metrics.reloads.inc({ result: 'error' });
      const problems = error instanceof PolicyError ? error.problems.length : undefined;
      logger.error({ err: { message: (error as Error).message, code: (error as FilterError).code }, problems }, 'policy reload refused; keeping the previous policies');
    }
  };
  const reload = (): Promise<void> => (reloads = reloads.then(reloadOnce));

  const closers: Array<() => Promise<void> | void> = [() => authenticator.close(), () => sink?.end?.()];
  const running: RunningFilter = { reload, check: handler.check, close: async () => {
    for (const close of closers.splice(0).reverse()) await close();
  } };
  try {
    if (config.grpc) {
      const { host, port } = parseListenAddress(config.grpc);
      const grpc = await startGrpcServer(`${host.includes(':') ? `[${host}]` : host}:${port}`, handler, logger);
      running.grpcPort = grpc.port;
      closers.push(() => grpc.close());
      logger.info({ port: grpc.port }, 'ext_authz gRPC listening');
    }
    if (config.http) {
      const trusted = compileIpMatcher(config.trustedProxies);
      const http = await startHttpServer(parseListenAddress(config.http), handler, {
        envoyPathPrefix: config.envoyPathPrefix,
        isTrustedProxy: (address) => trusted(address),
        xfccTrustedBy: new Set(config.xfcc.trustedBy),
      }, logger);
      running.httpPort = http.port;
      closers.push(() => http.close());
      logger.info({ port: http.port }, 'ext_authz HTTP listening');
    }
    if (config.watch && config.policies.length > 0) closers.push(watchPolicies(config.policies, () => void reload(), logger));
  } catch (error) {
    await running.close();
    throw error;
  }
  return running;
}
