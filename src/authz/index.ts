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
import { DecisionRecorder, type DecisionObserver } from './decision-recorder.js';
import { FilterError } from './errors.js';
import { TokenBinding } from './binding/token-binding.js';
import { Authenticator } from './jwt/authenticate.js';
import { signatureVerifier } from './jwt/verify-signature.js';
import { decisionTracer } from './decision-span.js';
import { createFilterMetrics } from './metrics.js';
import { compileIpMatcher } from './policy/ip-match.js';
import { PolicyStore, type PolicyReload, type ReloadTrigger } from './policy-store.js';
import { watchPolicies } from './policy-watch.js';
import { RevocationList, type RevocationCheck } from './revocations.js';
import { BackchannelLogout } from './signin/backchannel_logout.js';
import { BrowserSignIn } from './signin/browser-sign-in.js';
import type { RevokeSession } from './signin/revoke.js';
import type { CheckHandler } from './transport/answer-check.js';
import { startGrpcServer } from './transport/grpc-server.js';
import { startHttpServer } from './transport/http-server.js';
import type { Tracing } from '../telemetry/tracing.js';

export type { FilterConfig } from './config.js';
export type { CheckInput, CheckResult } from './check-input.js';
export type { PolicyReload, ReloadTrigger } from './policy-store.js';

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
  /** Traces (telemetry.tracing): a span per decision, its trace id in the audit line. */
  tracing?: Tracing;
  /** Sees every decision after the audit line (the console's traffic counters). */
  observer?: DecisionObserver;
  /**
   * Writes a revocation where every replica's `revocations` reads it (browser sign-out, back-channel
   * logout). Without it (and without `revocations`), filter.signIn keeps its own in-memory deny-list.
   */
  revoke?: RevokeSession;
}

export interface RunningFilter {
  grpcPort?: number;
  httpPort?: number;
  /** Reloads the policies now (default trigger "api"); resolves with the outcome, never rejects. */
  reload(trigger?: Exclude<ReloadTrigger, 'startup'>): Promise<PolicyReload>;
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
  let engine: DecisionEngine;
  const store = new PolicyStore({
    config, logger, authenticator, metrics,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    apply: (set) => engine.swap(set),
  });
  let signIn: BrowserSignIn | undefined;
  let backchannelLogout: BackchannelLogout | undefined;
  if (config.signIn) {
    const local = options.revocations ? undefined : new RevocationList(now);
    const revocations = options.revocations ?? local!;
    const revoke: RevokeSession = options.revoke ?? (async (revocation) => local?.add(revocation));
    signIn = new BrowserSignIn({ config: config.signIn, filter: config, now, revocations, revoke });
    backchannelLogout = new BackchannelLogout({
      config: config.signIn, client: signIn.client, algorithms: config.algorithms, clockSkewMs: config.clockSkew, now, revoke,
      ...(options.keySet ? { keySet: options.keySet } : {}), ...(options.issuer ? { ownIssuer: options.issuer } : {}),
    });
  }
  try {
    const binding = new TokenBinding({ config, verifySignature: signatureVerifier(config.verifier), now, onReplayEviction: () => metrics.dpopReplayEvictions.inc() });
    engine = new DecisionEngine(config, await store.load(), authenticator, options.revocations, binding, signIn);
  } catch (error) {
    authenticator.close();
    throw error;
  }
  const sink = options.auditSink ?? (config.audit.enabled ? openAuditSink(config.audit.file) : undefined);
  const recorder = new DecisionRecorder(metrics, sink, now, options.observer);
  const handler: CheckHandler = {
    check: (input: CheckInput) => engine.check(input),
    record: (input, result, startedAt) => recorder.record(input, result, startedAt),
    failed: (transport, stage, error, requestId) => {
      metrics.internalErrors.inc({ transport, stage });
      // errorCode, not err.code: the logger redacts every `code` field (authorization codes).
      logger.error({ err: { message: (error as Error)?.message ?? String(error) }, errorCode: (error as NodeJS.ErrnoException)?.code, transport, stage, requestId }, 'filter internal error; the request was denied');
    },
  };
  if (options.tracing) {
    // Only with tracing on: without it, the transports see no tracer and do no tracing work at all.
    handler.tracer = decisionTracer(options.tracing);
    handler.record = (input, result, startedAt, trace) => {
      trace?.end(result);
      recorder.record(input, result, startedAt, trace?.traceId);
    };
  }

  const reload = (trigger: Exclude<ReloadTrigger, 'startup'> = 'api'): Promise<PolicyReload> => store.reload(trigger);

  const closers: Array<() => Promise<void> | void> = [() => authenticator.close(), () => sink?.end?.(), () => store.idle()];
  const running: RunningFilter = { reload, check: handler.check, close: async () => {
    for (const close of closers.splice(0).reverse()) await close();
  } };
  const xfccTrust = { trustedBy: new Set(config.xfcc.trustedBy), forwardClientCertDetails: config.xfcc.forwardClientCertDetails };
  try {
    if (config.grpc) {
      const { host, port } = parseListenAddress(config.grpc);
      const grpc = await startGrpcServer(`${host.includes(':') ? `[${host}]` : host}:${port}`, handler, { numTrustedProxies: config.numTrustedProxies, xfcc: xfccTrust }, logger);
      running.grpcPort = grpc.port;
      closers.push(() => grpc.close());
      logger.info({ port: grpc.port }, 'ext_authz gRPC listening');
    }
    if (config.http) {
      const trusted = compileIpMatcher(config.trustedProxies);
      const http = await startHttpServer(parseListenAddress(config.http), handler, {
        envoyPathPrefix: config.envoyPathPrefix,
        isTrustedProxy: (address) => trusted(address),
        numTrustedProxies: config.numTrustedProxies,
        xfcc: xfccTrust,
        ...(backchannelLogout ? { backchannelLogout: (form: URLSearchParams) => backchannelLogout.handle(form) } : {}),
      });
      running.httpPort = http.port;
      closers.push(() => http.close());
      logger.info({ port: http.port }, 'ext_authz HTTP listening');
    }
    if (config.watch && config.policies.length > 0) {
      closers.push(await watchPolicies({
        paths: config.policies, intervalMs: config.watchInterval, logger,
        onChange: () => reload('watch'),
        onRescan: () => reload('rescan'),
      }));
    }
  } catch (error) {
    await running.close();
    throw error;
  }
  return running;
}
