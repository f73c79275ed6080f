/**
 * The traffic of a time window, from every filter: this process's intervals and the one in progress
 * (live), and the TrafficReports other replicas flushed to storage. The window is cut at interval
 * boundaries: an interval counts when it ends inside the window.
 */
import type { Storage, TrafficEdgeCounts } from '../../../storage/storage.js';
import { auditLineOf, edgeCounts, type TrafficReporter } from './report.js';

export interface WindowEdge extends Omit<TrafficEdgeCounts, 'recent'> {
  /** The replicas that counted on this edge. */
  replicas: string[];
}

export interface RecentLine {
  replica: string;
  line: Record<string, unknown>;
}

export interface TrafficWindow {
  from: number;
  to: number;
  edges: WindowEdge[];
  /** The latest decisions on every edge, newest first. */
  recent: RecentLine[];
  /** The replicas heard from in the window. */
  replicas: string[];
}

export interface TrafficSources {
  /** The filter in this process, when there is one. */
  local?: TrafficReporter;
  /** Where other replicas' reports are. */
  storage?: Pick<Storage, 'trafficReports'>;
}

/** The windows the console offers, by their query value. */
export const WINDOWS: Readonly<Record<string, number>> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000 };

export function edgeKey(edge: Pick<TrafficEdgeCounts, 'peer' | 'requestPrincipal' | 'namespace' | 'labels'>): string {
  return JSON.stringify([edge.peer ?? '', edge.requestPrincipal ?? '', edge.namespace, edge.labels ?? '']);
}

export async function readTrafficWindow(sources: TrafficSources, windowMs: number, now: number): Promise<TrafficWindow> {
  const from = now - windowMs;
  const edges = new Map<string, WindowEdge>();
  const recent: RecentLine[] = [];
  const replicas = new Set<string>();
  const add = (replica: string, counts: TrafficEdgeCounts) => {
    replicas.add(replica);
    const key = edgeKey(counts);
    let edge = edges.get(key);
    if (!edge) {
      const { recent: _recent, allow: _allow, deny: _deny, ...identity } = counts;
      edges.set(key, (edge = { ...identity, allow: 0, deny: 0, replicas: [] }));
    }
    edge.allow += counts.allow;
    edge.deny += counts.deny;
    if (!edge.replicas.includes(replica)) edge.replicas.push(replica);
    for (const line of counts.recent) recent.push({ replica, line });
  };
  const local = sources.local;
  if (local) {
    for (const report of local.history()) if (report.to > from) for (const counts of report.edges) add(local.replica, counts);
    const live = new Map(local.counters.recent(undefined, Math.max(from, local.cutAt)).map((d) => [d, auditLineOf(d)]));
    for (const { edge, allow, deny } of local.counters.sinceCut()) {
      const lines = [...live].filter(([d]) => d.edge === edge).map(([, line]) => line);
      add(local.replica, edgeCounts(edge, allow, deny, lines));
    }
  }
  if (sources.storage) {
    for (const report of await sources.storage.trafficReports.list()) {
      if (report.replica === local?.replica || report.to <= from || report.from > now) continue;
      for (const counts of report.edges) add(report.replica, counts);
    }
  }
  recent.sort((a, b) => String(b.line.time).localeCompare(String(a.line.time)));
  return { from, to: now, edges: [...edges.values()], recent, replicas: [...replicas].sort() };
}
