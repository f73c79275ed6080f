/**
 * The traffic graph: the page (Cytoscape.js draws it from /console/api/graph; the same edges are in a
 * table for keyboards and screen readers), its data, and the recent decisions of one edge.
 */
import { html } from '../../../login/html.js';
import { ConsoleHttpError, type ConsoleRequest } from '../request.js';
import { CONSOLE_PATH } from '../config.js';
import { percent, trafficGraph, type GraphEdge, type SourceGrouping, type TrafficGraph } from '../traffic/graph.js';
import { edgeKey, readTrafficWindow, WINDOWS, type RecentLine, type TrafficWindow } from '../traffic/window.js';
import { chosenWindow, windowSelect } from './overview.js';
import { queryParam } from './parts.js';

function grouping(query: Record<string, string | string[] | undefined>): SourceGrouping {
  return queryParam(query, 'group') === 'request' ? 'request' : 'peer';
}

async function windowGraph(request: ConsoleRequest): Promise<{ window: string; group: SourceGrouping; traffic: TrafficWindow; graph: TrafficGraph }> {
  const window = chosenWindow(request.ctx.query);
  const group = grouping(request.ctx.query);
  const traffic = await readTrafficWindow(request.deps.traffic, WINDOWS[window]!, request.deps.now());
  return { window, group, traffic, graph: trafficGraph(traffic, group) };
}

function edgeLink(edge: GraphEdge, window: string, group: SourceGrouping): string {
  return `${CONSOLE_PATH}/decisions?${new URLSearchParams({ edge: edge.id, window, group })}`;
}

export async function graphPage(request: ConsoleRequest): Promise<void> {
  const { window, group, traffic, graph } = await windowGraph(request);
  const label = (id: string) => graph.nodes.find((n) => n.id === id)?.title ?? id;
  const rows = graph.edges.map((edge) => html`<tr data-edge="${edge.id}">
<td>${label(edge.source)}</td><td>${label(edge.target)}</td>
<td class="number total">${edge.total}</td><td class="number allow">${edge.allow}</td><td class="number deny">${edge.deny}</td>
<td class="number mtls">${percent(edge.mtls, edge.total)}</td>
<td><a href="${edgeLink(edge, window, group)}">Decisions</a></td></tr>`);
  await request.render(200, {
    title: 'Traffic graph',
    section: 'graph',
    scripts: ['cytoscape.min.js', 'cytoscape-dagre.min.js', 'graph.js'],
    body: html`<form method="get" class="toolbar">${windowSelect(window)}
<label for="group">Callers by</label> <select id="group" name="group"><option value="peer"${group === 'peer' ? html` selected` : ''}>peer identity first</option><option value="request"${group === 'request' ? html` selected` : ''}>token principal first</option></select>
<button type="submit">Show</button></form>
<div class="graph-layout">
<div id="graph" class="graph" role="img" aria-label="Traffic graph: ${graph.edges.length} edge(s); the table below lists them" data-api="${`${CONSOLE_PATH}/api/graph?${new URLSearchParams({ window, group })}`}" data-edge-api="${`${CONSOLE_PATH}/api/edge?${new URLSearchParams({ window, group })}`}"></div>
<aside id="edge-panel" class="panel" aria-live="polite" aria-label="Selected edge"><p class="muted">Select an edge to see its recent decisions.</p></aside>
</div>
<p class="muted">${traffic.replicas.length} filter replica(s) over the last ${window}. A solid edge labelled "mTLS n%" had requests with a verified mTLS peer (Kiali's security badge); a dashed one had none. Red: all denied; amber: some denied.</p>
<table class="data" aria-label="Traffic edges">
<thead><tr><th scope="col">Caller</th><th scope="col">Workload</th><th scope="col">Requests</th><th scope="col">Allowed</th><th scope="col">Denied</th><th scope="col">mTLS</th><th scope="col"><span class="visually-hidden">Decisions</span></th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="7" class="muted">No decisions in this window.</td></tr>`}</tbody>
</table>`,
  });
}

/** GET /console/api/graph: the nodes and edges, as Cytoscape takes them (graph.js). */
export async function graphData(request: ConsoleRequest): Promise<void> {
  const { window, traffic, graph } = await windowGraph(request);
  request.ctx.set('Cache-Control', 'no-store');
  request.ctx.body = {
    window, from: traffic.from, to: traffic.to, replicas: traffic.replicas,
    nodes: graph.nodes,
    edges: graph.edges.map(({ keys: _keys, ...edge }) => ({ ...edge, mtlsShare: percent(edge.mtls, edge.total), denyShare: percent(edge.deny, edge.total) })),
  };
}

/** The recent decisions behind one graph edge (?edge=<id>), newest first. */
export async function decisionsOfEdge(request: ConsoleRequest, edgeId: string): Promise<{ edge: GraphEdge; decisions: RecentLine[] }> {
  const { traffic, graph } = await windowGraph(request);
  const edge = graph.edges.find((e) => e.id === edgeId);
  if (!edge) throw new ConsoleHttpError(404, 'No such edge', 'This edge has no decisions in the window (it may have aged out).');
  const keys = new Set(edge.keys);
  const decisions = traffic.recent.filter(({ line }) => keys.has(edgeKey({
    peer: line.peerPrincipal as string | undefined, requestPrincipal: line.requestPrincipal as string | undefined,
    namespace: (line.namespace as string | undefined) ?? '', labels: line.labels as string | undefined,
  })));
  return { edge, decisions };
}

/** GET /console/api/edge: the side panel's data. */
export async function edgeDecisions(request: ConsoleRequest): Promise<void> {
  const { edge, decisions } = await decisionsOfEdge(request, queryParam(request.ctx.query, 'edge'));
  request.ctx.set('Cache-Control', 'no-store');
  const { keys: _keys, ...shown } = edge;
  request.ctx.body = { edge: { ...shown, mtlsShare: percent(edge.mtls, edge.total) }, decisions: decisions.slice(0, 50) };
}
