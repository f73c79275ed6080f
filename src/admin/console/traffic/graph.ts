/**
 * The traffic graph of a window, as Kiali draws it: caller nodes (a peer identity, grouped in the
 * namespace its SPIFFE ID names; a request principal; "anonymous") to target workload nodes (grouped
 * in their namespace), each edge with its request count, allow/deny split and the share of requests
 * that came with a verified mTLS peer (Kiali's security badge: a lock when at least one did).
 */
import type { TrafficWindow, WindowEdge } from './window.js';
import { edgeKey } from './window.js';

/** Which identity names the caller when a request has both: the workload's (peer) or the token's. */
export type SourceGrouping = 'peer' | 'request';

export interface GraphNode {
  id: string;
  label: string;
  kind: 'peer' | 'requestPrincipal' | 'anonymous' | 'workload' | 'namespace';
  /** The compound (namespace) node it sits in. */
  parent?: string;
  /** The whole identity, for the tooltip and the side panel. */
  title: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  total: number;
  allow: number;
  deny: number;
  /** Requests with a verified mTLS peer. */
  mtls: number;
  /** The edge's raw identities (edgeKey of each underlying counter), for "recent decisions on this edge". */
  keys: string[];
}

export interface TrafficGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A peer principal (`<trust domain>/ns/<namespace>/sa/<service account>`, as Istio writes it, or its spiffe:// URI) split. */
export function spiffeParts(principal: string): { namespace: string; serviceAccount: string } | undefined {
  const match = /^(?:spiffe:\/\/)?[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  return match ? { namespace: match[1]!, serviceAccount: match[2]! } : undefined;
}

/** A workload's name from its labels: Istio's canonical name, app.kubernetes.io/name, app; else the labels. */
export function workloadName(labels: string | undefined): string {
  const map = new Map((labels ?? '').split(',').filter(Boolean).map((pair) => pair.split('=', 2) as [string, string]));
  return map.get('service.istio.io/canonical-name') ?? map.get('app.kubernetes.io/name') ?? map.get('app') ?? (labels || '(default workload)');
}

function callerOf(edge: WindowEdge, grouping: SourceGrouping): GraphNode {
  const peer = edge.peer;
  const principal = edge.requestPrincipal;
  const usePeer = peer !== undefined && (grouping === 'peer' || principal === undefined);
  if (usePeer) {
    const parts = spiffeParts(peer);
    return { id: `peer:${peer}`, label: parts ? parts.serviceAccount : peer, kind: 'peer', title: peer, ...(parts ? { parent: `ns:${parts.namespace}` } : {}) };
  }
  if (principal !== undefined) return { id: `rp:${principal}`, label: principal.length > 40 ? `…${principal.slice(-39)}` : principal, kind: 'requestPrincipal', title: principal };
  return { id: 'anonymous', label: 'anonymous', kind: 'anonymous', title: 'no verified peer and no verified token' };
}

export function trafficGraph(window: Pick<TrafficWindow, 'edges'>, grouping: SourceGrouping = 'peer'): TrafficGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const namespace = (name: string) => {
    const id = `ns:${name}`;
    if (!nodes.has(id)) nodes.set(id, { id, label: name, kind: 'namespace', title: `namespace ${name}` });
    return id;
  };
  for (const counted of window.edges) {
    const caller = callerOf(counted, grouping);
    if (caller.parent) namespace(caller.parent.slice(3));
    nodes.set(caller.id, caller);
    const targetId = `wl:${counted.namespace}|${counted.labels ?? ''}`;
    nodes.set(targetId, { id: targetId, label: workloadName(counted.labels), kind: 'workload', parent: namespace(counted.namespace), title: `${counted.namespace}${counted.labels ? ` {${counted.labels}}` : ''}` });
    const id = `${caller.id} -> ${targetId}`;
    let edge = edges.get(id);
    if (!edge) edges.set(id, (edge = { id, source: caller.id, target: targetId, total: 0, allow: 0, deny: 0, mtls: 0, keys: [] }));
    edge.allow += counted.allow;
    edge.deny += counted.deny;
    edge.total += counted.allow + counted.deny;
    if (counted.peer !== undefined) edge.mtls += counted.allow + counted.deny;
    edge.keys.push(edgeKey(counted));
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()].sort((a, b) => b.total - a.total || a.id.localeCompare(b.id)) };
}

/** The share as a whole percentage ("57%"), as the graph and its table print it. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${Math.round((part / whole) * 100)}%`;
}
