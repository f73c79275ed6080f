/**
 * Policies per namespace and workload: every object the filter's files hold (and the DestinationRules
 * beside them), grouped by what it applies to, rendered in words (who may call what, with which
 * methods, paths and conditions), with its validation findings beside it and the file and line it
 * came from.
 */
import { selects } from '../../../authz/policy/policy-set.js';
import { html, type SafeHtml } from '../../../login/html.js';
import type { ConsoleRequest } from '../request.js';
import type { ShownObject } from '../model.js';
import type { Clause, RuleText } from '../policy-text.js';
import { findingList, queryParam, whereFrom } from './parts.js';

function clauseText(clause: Clause): SafeHtml {
  return html`<span class="clause"><span class="field">${clause.field}</span> ${clause.relation} ${clause.values.length > 1 ? 'one of ' : ''}${clause.values.map((v, i) => html`${i > 0 ? ', ' : ''}<code>${v}</code>`)}</span>`;
}

function alternatives(entries: Clause[][], none: string): SafeHtml {
  if (entries.length === 0) return html`<span class="muted">${none}</span>`;
  return html`${entries.map((clauses, i) => html`${i > 0 ? html` <em>or</em> ` : ''}${clauses.length === 0 ? html`<span class="muted">anything</span>` : clauses.map((c, j) => html`${j > 0 ? ' and ' : ''}${clauseText(c)}`)}`)}`;
}

function ruleBlock(object: ShownObject, rule: RuleText): SafeHtml {
  const line = object.resource.locate?.(rule.path);
  return html`<li class="rule"><div class="rule-head">Rule ${rule.index + 1}${line !== undefined ? html` <span class="where">line ${line}</span>` : ''}</div>
<dl>
<dt>From</dt><dd>${alternatives(rule.from, 'any caller')}</dd>
<dt>To</dt><dd>${alternatives(rule.to, 'any request')}</dd>
${rule.when.length > 0 ? html`<dt>When</dt><dd>${rule.when.map((c, i) => html`${i > 0 ? ' and ' : ''}${clauseText(c)}`)}</dd>` : ''}
</dl></li>`;
}

function objectCard(object: ShownObject, workloads: string[]): SafeHtml {
  const { resource, text } = object;
  const id = `${resource.kind}-${resource.namespace}-${resource.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return html`<article class="policy" id="${id}" aria-labelledby="${id}-title" data-kind="${resource.kind}" data-name="${resource.namespace}/${resource.name}">
<h3 id="${id}-title"><span class="kind">${resource.kind}</span> ${resource.namespace}/${resource.name}</h3>
<p class="where">${whereFrom(resource.file, object.line)}</p>
<p><strong>${text.summary}</strong></p>
<p>Applies to ${text.appliesTo}${workloads.length > 0 ? html`: <span class="workloads">${workloads.join(', ')}</span>` : ''}.</p>
${text.details.length > 0 ? html`<ul class="details">${text.details.map((d) => html`<li>${d}</li>`)}</ul>` : ''}
${text.rules.length > 0 ? html`<ol class="rules">${text.rules.map((rule) => ruleBlock(object, rule))}</ol>` : ''}
<section class="object-findings" aria-label="Validation findings of ${resource.namespace}/${resource.name}">${findingList(object.findings)}</section>
</article>`;
}

function selectorOf(object: ShownObject): Readonly<Record<string, string>> | undefined {
  const spec = object.resource.spec as { selector?: { matchLabels?: Record<string, string> } };
  return spec.selector?.matchLabels && Object.keys(spec.selector.matchLabels).length > 0 ? spec.selector.matchLabels : undefined;
}

export async function policiesPage(request: ConsoleRequest): Promise<void> {
  const model = await request.model();
  const namespaces = model.namespaces.map((n) => n.name);
  const asked = queryParam(request.ctx.query, 'namespace');
  const shown = asked && namespaces.includes(asked) ? [asked] : namespaces;
  const sections = shown.map((namespace) => {
    const objects = model.objects.filter((o) => o.resource.namespace === namespace);
    const groups = new Map<string, ShownObject[]>();
    for (const object of objects) {
      const selector = selectorOf(object);
      const key = selector ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(', ') : '';
      groups.set(key, [...(groups.get(key) ?? []), object]);
    }
    const blocks = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([key, members]) => {
      const selector = selectorOf(members[0]!);
      const workloads = selector ? model.workloads.filter((w) => w.namespace === namespace && selects(selector, w.labels)).map((w) => `${w.kind} ${w.name}`) : [];
      return html`<section class="workload-group"><h3 class="group-title">${key ? `Workloads labelled ${key}` : namespace === model.rootNamespace ? 'Mesh-wide (every workload)' : 'Every workload in the namespace'}</h3>
${members.map((m) => objectCard(m, workloads))}</section>`;
    });
    return html`<section class="namespace-policies" aria-labelledby="ns-${namespace}"><h2 id="ns-${namespace}">Namespace ${namespace}</h2>${blocks.length > 0 ? blocks : html`<p class="muted">No policies.</p>`}</section>`;
  });
  await request.render(200, {
    title: 'Policies',
    section: 'policies',
    body: html`<form method="get" class="toolbar"><label for="namespace">Namespace</label> <select id="namespace" name="namespace"><option value="">all</option>${namespaces.map((n) => html`<option value="${n}"${n === asked ? html` selected` : ''}>${n}</option>`)}</select> <button type="submit">Show</button></form>
${sections}
${model.otherFindings.length > 0 ? html`<section><h2>Other findings</h2>${findingList(model.otherFindings)}</section>` : ''}`,
  });
}
