/**
 * Recent decisions: the audit lines of the latest decisions of every filter (this process's ring, and
 * the ones other replicas reported with their counts), filterable by decision, namespace, caller,
 * path, or one edge of the graph.
 */
import { html } from '../../../login/html.js';
import type { ConsoleRequest } from '../request.js';
import { percent } from '../traffic/graph.js';
import { readTrafficWindow, WINDOWS, type RecentLine } from '../traffic/window.js';
import { decisionsOfEdge } from './graph.js';
import { chosenWindow, windowSelect } from './overview.js';
import { queryParam } from './parts.js';

const SHOWN = 200;

function text(line: Record<string, unknown>, key: string): string {
  const value = line[key];
  return value === undefined || value === null ? '' : String(value);
}

export function decisionRow({ replica, line }: RecentLine): ReturnType<typeof html> {
  const decision = text(line, 'decision');
  return html`<tr class="decision ${decision}">
<td><time>${text(line, 'time')}</time></td><td>${replica}</td>
<td><span class="badge ${decision === 'allow' ? 'ok' : 'error'}">${decision}</span> ${text(line, 'status')}</td>
<td>${text(line, 'reason')}${line.jwtError ? html` <code>${text(line, 'jwtError')}</code>` : ''}</td>
<td><code>${text(line, 'method')} ${text(line, 'host')}${text(line, 'path')}</code></td>
<td>${text(line, 'namespace')}${line.labels ? html` <span class="muted">{${text(line, 'labels')}}</span>` : ''}</td>
<td>${text(line, 'peerPrincipal') || html`<span class="muted">none</span>`}</td>
<td>${text(line, 'requestPrincipal') || html`<span class="muted">none</span>`}</td>
<td>${line.policy ? `${text(line, 'policy')}[${text(line, 'rule')}]` : ''}</td></tr>`;
}

export function decisionTable(lines: readonly RecentLine[], label: string): ReturnType<typeof html> {
  return html`<table class="data decisions" aria-label="${label}">
<thead><tr><th scope="col">Time</th><th scope="col">Replica</th><th scope="col">Decision</th><th scope="col">Reason</th><th scope="col">Request</th><th scope="col">Workload</th><th scope="col">Peer</th><th scope="col">Token principal</th><th scope="col">Rule</th></tr></thead>
<tbody>${lines.length > 0 ? lines.map(decisionRow) : html`<tr><td colspan="9" class="muted">No decisions match.</td></tr>`}</tbody></table>`;
}

export async function decisionsPage(request: ConsoleRequest): Promise<void> {
  const query = request.ctx.query;
  const window = chosenWindow(query);
  const edgeId = queryParam(query, 'edge');
  const filters = { decision: queryParam(query, 'decision'), namespace: queryParam(query, 'namespace'), caller: queryParam(query, 'caller'), path: queryParam(query, 'path') };
  let lines: RecentLine[];
  let heading = html``;
  if (edgeId) {
    const { edge, decisions } = await decisionsOfEdge(request, edgeId);
    lines = decisions;
    heading = html`<p class="edge-summary">Edge <code>${edge.id}</code>: ${edge.total} request(s), ${edge.allow} allowed, ${edge.deny} denied, ${percent(edge.mtls, edge.total)} with mTLS.</p>`;
  } else {
    lines = (await readTrafficWindow(request.deps.traffic, WINDOWS[window]!, request.deps.now())).recent;
  }
  const matches = lines.filter(({ line }) =>
    (!filters.decision || line.decision === filters.decision) &&
    (!filters.namespace || line.namespace === filters.namespace) &&
    (!filters.caller || `${text(line, 'peerPrincipal')} ${text(line, 'requestPrincipal')}`.includes(filters.caller)) &&
    (!filters.path || text(line, 'path').includes(filters.path)));
  await request.render(200, {
    title: 'Recent decisions',
    section: 'decisions',
    body: html`<form method="get" class="toolbar">${windowSelect(window)}
<label for="decision">Decision</label> <select id="decision" name="decision"><option value="">any</option>${['allow', 'deny'].map((d) => html`<option value="${d}"${filters.decision === d ? html` selected` : ''}>${d}</option>`)}</select>
<label for="f-namespace">Namespace</label> <input id="f-namespace" name="namespace" value="${filters.namespace}" size="12">
<label for="caller">Caller contains</label> <input id="caller" name="caller" value="${filters.caller}" size="18">
<label for="path">Path contains</label> <input id="path" name="path" value="${filters.path}" size="12">
${edgeId ? html`<input type="hidden" name="edge" value="${edgeId}"><input type="hidden" name="group" value="${queryParam(query, 'group')}">` : ''}
<button type="submit">Filter</button></form>
${heading}
<p class="muted">${matches.length} decision(s)${matches.length > SHOWN ? `, the latest ${SHOWN} shown` : ''}. Paths are shown as the audit line writes them: without query, fragment or path parameters.</p>
${decisionTable(matches.slice(0, SHOWN), 'Recent decisions')}`,
  });
}
