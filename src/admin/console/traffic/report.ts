/**
 * Cuts the traffic counters into intervals off the hot path: each interval is kept in memory for the
 * console of this process (for `retention`), and, with shared storage, written as one TrafficReport
 * record so consoles in other processes see this replica's traffic too. Storage was chosen over
 * scraping /metrics: the edges (caller x workload) are too many for Prometheus labels, a console would
 * need to know every replica's address, and storage already joins the replicas (revocations, sessions).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { auditJson } from '../../../authz/audit.js';
import type { Storage, TrafficEdgeCounts, TrafficReport } from '../../../storage/storage.js';
import type { Edge, TrafficCounters } from './counters.js';

/** Decisions per edge and interval carried in a report, for "recent decisions" on that edge. */
export const RECENT_PER_EDGE = 5;
/** How often intervals are cut when nothing is flushed (trafficReports.interval 0s). */
const LOCAL_CUT_MS = 10_000;

export interface TrafficReporterOptions {
  /** Between flushes to storage; 0: never flushed (intervals are still cut for this process's console). */
  intervalMs: number;
  retentionMs: number;
  storage?: Pick<Storage, 'trafficReports'>;
  now?: () => number;
  logger?: Logger;
  /** This replica's name in reports (default: host name, pid and a random tag). */
  replica?: string;
}

export class TrafficReporter {
  readonly replica: string;
  private readonly intervals: TrafficReport[] = [];
  private lastCut: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(readonly counters: TrafficCounters, private readonly options: TrafficReporterOptions) {
    this.now = options.now ?? Date.now;
    this.replica = options.replica ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.lastCut = this.now();
  }

  start(): void {
    const period = this.options.intervalMs > 0 ? this.options.intervalMs : LOCAL_CUT_MS;
    this.timer = setInterval(() => void this.flush(), period);
    this.timer.unref();
  }

  /** When the interval in progress began. */
  get cutAt(): number {
    return this.lastCut;
  }

  /** The intervals cut in this process within retention, oldest first. */
  history(): readonly TrafficReport[] {
    return this.intervals;
  }

  /** Cuts an interval now, keeps it, and writes it to storage when flushing is on; never rejects. */
  async flush(): Promise<void> {
    const to = this.now();
    const from = this.lastCut;
    const recent = recentByEdge(this.counters, from);
    const edges = this.counters.cut().map(({ edge, allow, deny }) => edgeCounts(edge, allow, deny, recent.get(edge) ?? []));
    this.lastCut = to;
    const cutoff = to - this.options.retentionMs;
    while (this.intervals.length > 0 && this.intervals[0]!.to <= cutoff) this.intervals.shift();
    if (edges.length === 0) return;
    const report: TrafficReport = { id: `${this.replica}:${from}`, replica: this.replica, from, to, edges, expiresAt: to + this.options.retentionMs };
    this.intervals.push(report);
    if (!this.options.storage || this.options.intervalMs <= 0) return;
    try {
      await this.options.storage.trafficReports.create(report);
    } catch (error) {
      // The interval stays in this process; consoles elsewhere miss it. Never a reason to disturb the filter.
      this.options.logger?.warn({ err: { message: (error as Error).message }, replica: this.replica }, 'traffic report not written to storage');
    }
  }

  /** Stops the timer and flushes what was counted since the last interval. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** An edge's counts in the report shape ("" fields left out). */
export function edgeCounts(edge: Edge, allow: number, deny: number, recent: Array<Record<string, unknown>>): TrafficEdgeCounts {
  return {
    ...(edge.peer ? { peer: edge.peer } : {}),
    ...(edge.requestPrincipal ? { requestPrincipal: edge.requestPrincipal } : {}),
    namespace: edge.namespace,
    ...(edge.labels ? { labels: edge.labels } : {}),
    allow,
    deny,
    recent,
  };
}

/** The audit line of a kept decision, as an object: the same fields the audit stream writes, never a token. */
export function auditLineOf(decision: { input: Parameters<typeof auditJson>[0]; result: Parameters<typeof auditJson>[1]; latencyUs: number; time: number }): Record<string, unknown> {
  return JSON.parse(auditJson(decision.input, decision.result, decision.latencyUs, decision.time)) as Record<string, unknown>;
}

function recentByEdge(counters: TrafficCounters, since: number): Map<Edge, Array<Record<string, unknown>>> {
  const byEdge = new Map<Edge, Array<Record<string, unknown>>>();
  for (const decision of counters.recent(undefined, since)) {
    let list = byEdge.get(decision.edge);
    if (!list) byEdge.set(decision.edge, (list = []));
    if (list.length < RECENT_PER_EDGE) list.push(auditLineOf(decision));
  }
  return byEdge;
}
