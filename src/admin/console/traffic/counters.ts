/**
 * The traffic graph's raw data, counted on the filter's hot path: per edge — the verified peer, the
 * request principal, the target workload (namespace, labels) — how many requests were allowed and
 * denied, plus a ring of the latest decisions. A decision costs four Map lookups on strings the
 * result already holds, two number increments and five array stores: nothing is formatted, allocated
 * or written there. Intervals are cut off the hot path (`cut`), by the reporter's timer.
 */
import type { DecisionObserver } from '../../../authz/decision-recorder.js';
import type { CheckInput, CheckResult } from '../../../authz/check-input.js';

/** One caller -> workload edge, with its running totals. Empty strings stand for "none". */
export interface Edge {
  readonly peer: string;
  readonly requestPrincipal: string;
  readonly namespace: string;
  readonly labels: string;
  allow: number;
  deny: number;
  /** The totals at the last cut: what the next interval counts from. */
  cutAllow: number;
  cutDeny: number;
}

/** A decision kept in the ring: what its audit line is made of, made into one only when asked. */
export interface RecentDecision {
  input: CheckInput;
  result: CheckResult;
  latencyUs: number;
  time: number;
  edge: Edge;
}

/** Edges past this many share one overflow edge, so a flood of new principals cannot grow memory without end. */
export const MAX_EDGES = 10_000;
/** Decisions kept for "recent decisions" (a power of two). */
export const RING_SIZE = 1024;
export const OVERFLOW = '(other)';

export class TrafficCounters implements DecisionObserver {
  private readonly byPeer = new Map<string, Map<string, Map<string, Map<string, Edge>>>>();
  private readonly all: Edge[] = [];
  private overflow: Edge | undefined;
  private readonly inputs: Array<CheckInput | undefined> = new Array(RING_SIZE);
  private readonly results: Array<CheckResult | undefined> = new Array(RING_SIZE);
  private readonly ringEdges: Array<Edge | undefined> = new Array(RING_SIZE);
  private readonly times = new Float64Array(RING_SIZE);
  private readonly latencies = new Float64Array(RING_SIZE);
  /** Decisions observed so far; the ring slot of the next one is `seen & (RING_SIZE - 1)`. */
  private seen = 0;

  constructor(private readonly maxEdges = MAX_EDGES) {}

  observe(input: CheckInput, result: CheckResult, latencyUs: number, now: number): void {
    const edge = this.edgeOf(result.peerPrincipal ?? '', result.requestPrincipal ?? '', result.namespace ?? '', input.contextExtensions?.labels ?? '');
    if (result.decision === 'allow') edge.allow++;
    else edge.deny++;
    const slot = this.seen & (RING_SIZE - 1);
    this.inputs[slot] = input;
    this.results[slot] = result;
    this.ringEdges[slot] = edge;
    this.times[slot] = now;
    this.latencies[slot] = latencyUs;
    this.seen++;
  }

  private edgeOf(peer: string, requestPrincipal: string, namespace: string, labels: string): Edge {
    let byPrincipal = this.byPeer.get(peer);
    if (!byPrincipal) this.byPeer.set(peer, (byPrincipal = new Map()));
    let byNamespace = byPrincipal.get(requestPrincipal);
    if (!byNamespace) byPrincipal.set(requestPrincipal, (byNamespace = new Map()));
    let byLabels = byNamespace.get(namespace);
    if (!byLabels) byNamespace.set(namespace, (byLabels = new Map()));
    let edge = byLabels.get(labels);
    if (!edge) {
      if (this.all.length >= this.maxEdges) return (this.overflow ??= newEdge(OVERFLOW, '', OVERFLOW, ''));
      byLabels.set(labels, (edge = newEdge(peer, requestPrincipal, namespace, labels)));
      this.all.push(edge);
    }
    return edge;
  }

  /** Every edge, the overflow one last (when there is one). */
  edges(): readonly Edge[] {
    return this.overflow ? [...this.all, this.overflow] : this.all;
  }

  /** What each edge counted since the last cut, and a new cut at the current totals. */
  cut(): Array<{ edge: Edge; allow: number; deny: number }> {
    const counted: Array<{ edge: Edge; allow: number; deny: number }> = [];
    for (const edge of this.edges()) {
      const allow = edge.allow - edge.cutAllow;
      const deny = edge.deny - edge.cutDeny;
      edge.cutAllow = edge.allow;
      edge.cutDeny = edge.deny;
      if (allow > 0 || deny > 0) counted.push({ edge, allow, deny });
    }
    return counted;
  }

  /** What each edge counted since the last cut, without cutting (the interval in progress). */
  sinceCut(): Array<{ edge: Edge; allow: number; deny: number }> {
    return this.edges().map((edge) => ({ edge, allow: edge.allow - edge.cutAllow, deny: edge.deny - edge.cutDeny })).filter((c) => c.allow > 0 || c.deny > 0);
  }

  /** The latest decisions, newest first, at most `limit`, optionally only those at `since` or later. */
  recent(limit = RING_SIZE, since = -Infinity): RecentDecision[] {
    const out: RecentDecision[] = [];
    const oldest = Math.max(0, this.seen - RING_SIZE);
    for (let n = this.seen - 1; n >= oldest && out.length < limit; n--) {
      const slot = n & (RING_SIZE - 1);
      if (this.times[slot]! < since) break;
      out.push({ input: this.inputs[slot]!, result: this.results[slot]!, edge: this.ringEdges[slot]!, time: this.times[slot]!, latencyUs: this.latencies[slot]! });
    }
    return out;
  }
}

function newEdge(peer: string, requestPrincipal: string, namespace: string, labels: string): Edge {
  return { peer, requestPrincipal, namespace, labels, allow: 0, deny: 0, cutAllow: 0, cutDeny: 0 };
}
