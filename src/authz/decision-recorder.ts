/**
 * After each decision: the metrics (decision counter, latency histogram), the audit line and the
 * observer (the console's traffic counters). Label children are resolved once per label combination,
 * the audit write is non-blocking, and the observer only increments in-memory counters.
 */
import type { Counter, Histogram } from 'prom-client';
import { auditJson, type AuditSink } from './audit.js';
import type { CheckInput, CheckResult } from './check-input.js';
import type { FilterMetrics } from './metrics.js';

/** Sees every decision on the hot path, so it must cost no more than an in-memory counter increment. */
export interface DecisionObserver {
  observe(input: CheckInput, result: CheckResult, latencyUs: number, now: number): void;
}

export class DecisionRecorder {
  /** Label children by policy, then reason, then decision: the result's own (long-lived) strings as keys, no key built per call. */
  private readonly counters = new Map<string, Map<string, Map<string, Counter.Internal>>>();
  private readonly histograms = new Map<string, Histogram.Internal<'transport'>>();

  constructor(
    private readonly metrics: FilterMetrics,
    private readonly sink: AuditSink | undefined,
    private readonly now: () => number,
    private readonly observer?: DecisionObserver,
  ) {}

  /** `startedAt` is process.hrtime.bigint() when the request was received; `traceId` only with tracing on. */
  record(input: CheckInput, result: CheckResult, startedAt: bigint, traceId?: string): void {
    const latencyUs = Number(process.hrtime.bigint() - startedAt) / 1000;
    this.counter(result.policy ?? '', result.reason, result.decision).inc();
    let histogram = this.histograms.get(input.transport);
    if (!histogram) {
      histogram = this.metrics.latency.labels({ transport: input.transport });
      this.histograms.set(input.transport, histogram);
    }
    histogram.observe(latencyUs / 1e6);
    if (!this.sink && !this.observer) return;
    const now = this.now();
    if (this.sink) this.sink.write(`${auditJson(input, result, latencyUs, now, traceId)}\n`);
    if (this.observer) this.observer.observe(input, result, latencyUs, now);
  }

  private counter(policy: string, reason: string, decision: CheckResult['decision']): Counter.Internal {
    let byReason = this.counters.get(policy);
    if (!byReason) this.counters.set(policy, (byReason = new Map()));
    let byDecision = byReason.get(reason);
    if (!byDecision) byReason.set(reason, (byDecision = new Map()));
    let counter = byDecision.get(decision);
    if (!counter) byDecision.set(decision, (counter = this.metrics.decisions.labels({ result: decision, reason, policy })));
    return counter;
  }
}
