/** The filter's decision counts, flushed to storage so a console in another process can draw the traffic graph. */
import type { EpochMs } from '../epoch-ms.js';

/** One edge of the traffic graph in a TrafficReport: who called which workload, how often, how decided. */
export interface TrafficEdgeCounts {
  /** The verified mTLS peer (SPIFFE URI), when there was one. */
  peer?: string;
  /** The verified token's `iss/sub`, when there was one. */
  requestPrincipal?: string;
  /** The target workload: its namespace and labels as the proxy named them ("k=v,k2=v2"). */
  namespace: string;
  labels?: string;
  allow: number;
  deny: number;
  /** The latest decisions on the edge in the interval, as audit lines (never a token). */
  recent: Array<Record<string, unknown>>;
}

/** A filter replica's decision counts for one interval, flushed for consoles in other processes. */
export interface TrafficReport {
  /** `<replica>:<from>` */
  id: string;
  replica: string;
  from: EpochMs;
  to: EpochMs;
  edges: TrafficEdgeCounts[];
  expiresAt: EpochMs;
}
