/**
 * Namespaces overview: per namespace its mTLS lock (Kiali's namespace rules, with why), its policies by
 * kind, its validation findings by severity, and from the filters' decisions over the window the
 * decisions per minute and the share denied.
 */
import { html } from '../../../login/html.js';
import type { ConsoleRequest } from '../request.js';
import { CONSOLE_PATH } from '../config.js';
import { percent } from '../traffic/graph.js';
import { readTrafficWindow, WINDOWS } from '../traffic/window.js';
import { lockWithTooltip } from './layout.js';
import { queryParam } from './parts.js';

const KINDS: ReadonlyArray<[string, string]> = [
  ['AuthorizationPolicy', 'AuthorizationPolicy'], ['PeerAuthentication', 'PeerAuthentication'], ['RequestAuthentication', 'RequestAuthentication'],
  ['RoleBinding', 'RoleBinding'], ['Role', 'Role'], ['DestinationRule', 'DestinationRule'],
];

/** The window a page was asked for (?window=5m), 5 minutes by default. */
export function chosenWindow(query: Record<string, string | string[] | undefined>): string {
  const asked = queryParam(query, 'window');
  return asked in WINDOWS ? asked : '5m';
}

export function windowSelect(current: string): ReturnType<typeof html> {
  return html`<label for="window">Window</label> <select id="window" name="window">${Object.keys(WINDOWS).map((w) => html`<option value="${w}"${w === current ? html` selected` : ''}>last ${w}</option>`)}</select>`;
}

function findingCounts(findings: { error: number; warning: number; info: number }): ReturnType<typeof html> {
  const parts = (['error', 'warning', 'info'] as const).filter((severity) => findings[severity] > 0)
    .map((severity) => html`<span class="count ${severity}">${findings[severity]} ${severity}${findings[severity] > 1 && severity !== 'info' ? 's' : ''}</span>`);
  return parts.length > 0 ? html`${parts.map((part, i) => html`${i > 0 ? ', ' : ''}${part}`)}` : html`<span class="muted">clean</span>`;
}

export async function overviewPage(request: ConsoleRequest): Promise<void> {
  const model = await request.model();
  const window = chosenWindow(request.ctx.query);
  const traffic = await readTrafficWindow(request.deps.traffic, WINDOWS[window]!, request.deps.now());
  const minutes = WINDOWS[window]! / 60_000;
  const byNamespace = new Map<string, { allow: number; deny: number }>();
  for (const edge of traffic.edges) {
    const counts = byNamespace.get(edge.namespace) ?? { allow: 0, deny: 0 };
    counts.allow += edge.allow;
    counts.deny += edge.deny;
    byNamespace.set(edge.namespace, counts);
  }
  const names = [...new Set([...model.namespaces.map((n) => n.name), ...byNamespace.keys()])].sort();
  const rows = names.map((name) => {
    const summary = model.namespaces.find((n) => n.name === name);
    const counts = byNamespace.get(name) ?? { allow: 0, deny: 0 };
    const total = counts.allow + counts.deny;
    const policyCounts = KINDS.filter(([kind]) => summary?.counts[kind]).map(([kind, label]) => `${summary!.counts[kind]} ${label}`);
    return html`<tr data-namespace="${name}">
<th scope="row"><a href="${CONSOLE_PATH}/policies?namespace=${encodeURIComponent(name)}">${name}</a>${name === model.rootNamespace ? html` <span class="muted">(root)</span>` : ''}</th>
<td class="ns-lock">${summary ? lockWithTooltip(summary.lock, `ns-lock-${name}`, summary.lock.label) : html`<span class="muted">no policies</span>`}</td>
<td>${policyCounts.length > 0 ? policyCounts.join(', ') : html`<span class="muted">none</span>`}</td>
<td class="findings-count">${summary ? findingCounts(summary.findings) : ''}</td>
<td class="number">${(total / minutes).toFixed(1)}</td>
<td class="number">${total === 0 ? '–' : percent(counts.deny, total)}</td>
</tr>`;
  });
  const skipped = model.skipped.map((s) => html`<li>${s.codes.join(', ')}: ${s.reason}</li>`);
  await request.render(200, {
    title: 'Namespaces',
    section: 'overview',
    body: html`<form method="get" class="toolbar">${windowSelect(window)} <button type="submit">Show</button></form>
<table class="data" aria-label="Namespaces">
<thead><tr><th scope="col">Namespace</th><th scope="col">mTLS</th><th scope="col">Policies</th><th scope="col">Validation</th><th scope="col">Decisions / min</th><th scope="col">Denied</th></tr></thead>
<tbody>${rows}</tbody>
</table>
<p class="muted">Decisions from ${traffic.replicas.length} filter replica(s) over the last ${window}.</p>
${skipped.length > 0 ? html`<details><summary>Checks skipped for want of inventory</summary><ul>${skipped}</ul></details>` : ''}`,
  });
}
