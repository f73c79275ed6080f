/**
 * The filter's Prometheus metrics, registered on the process registry: decisions by result, reason and
 * policy; decision latency; JWKS fetches and failures; policy reloads and their findings.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface FilterMetrics {
  decisions: Counter<'result' | 'reason' | 'policy'>;
  latency: Histogram<'transport'>;
  jwksFetches: Counter<'source' | 'result'>;
  /** Every policy load: trigger (startup, watch, rescan, signal, api) and result (ok, error). */
  reloads: Counter<'trigger' | 'result'>;
  /** What the reload-time checks of `idgate validate` found on each load, by code and severity. */
  findings: Counter<'code' | 'severity'>;
  internalErrors: Counter<'transport' | 'stage'>;
  /** DPoP proof ids forgotten before their window ended because the replay cache was full (filter.dpop.replayCache). */
  dpopReplayEvictions: Counter;
}

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function createFilterMetrics(registry: Registry): FilterMetrics {
  return {
    decisions: reuse(registry, 'idgate_filter_decisions_total', () => new Counter({
      name: 'idgate_filter_decisions_total',
      help: 'Filter decisions by result (allow/deny), reason and deciding policy',
      labelNames: ['result', 'reason', 'policy'],
      registers: [registry],
    })),
    latency: reuse(registry, 'idgate_filter_decision_duration_seconds', () => new Histogram({
      name: 'idgate_filter_decision_duration_seconds',
      help: 'Time from request decode to response, by transport',
      labelNames: ['transport'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    })),
    jwksFetches: reuse(registry, 'idgate_filter_jwks_fetches_total', () => new Counter({
      name: 'idgate_filter_jwks_fetches_total',
      help: 'JWKS loads by key source and result (ok/error)',
      labelNames: ['source', 'result'],
      registers: [registry],
    })),
    reloads: reuse(registry, 'idgate_filter_policy_reloads_total', () => new Counter({
      name: 'idgate_filter_policy_reloads_total',
      help: 'Policy (re)loads by trigger (startup/watch/rescan/signal/api) and result (ok/error); on error the previous policies stay in force',
      labelNames: ['trigger', 'result'],
      registers: [registry],
    })),
    findings: reuse(registry, 'idgate_filter_policy_findings_total', () => new Counter({
      name: 'idgate_filter_policy_findings_total',
      help: 'Findings of the policy checks run on every (re)load, by code (KIA..., IDG...) and severity; an error refuses the new policies',
      labelNames: ['code', 'severity'],
      registers: [registry],
    })),
    internalErrors: reuse(registry, 'idgate_filter_internal_errors_total', () => new Counter({
      name: 'idgate_filter_internal_errors_total',
      help: 'Unexpected errors while deciding or answering a request, by transport and stage; each became a deny (or a dropped connection)',
      labelNames: ['transport', 'stage'],
      registers: [registry],
    })),
    dpopReplayEvictions: reuse(registry, 'idgate_filter_dpop_replay_evictions_total', () => new Counter({
      name: 'idgate_filter_dpop_replay_evictions_total',
      help: 'DPoP proof ids forgotten before their iat window ended because filter.dpop.replayCache was full; while it grows, a replay of such a proof is not caught',
      registers: [registry],
    })),
  };
}
