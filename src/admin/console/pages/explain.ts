/**
 * Explain: a request typed in (method, host, path, headers, token, peer, target workload), decided by
 * `idgate authz explain`'s own code (explainRequest over the filter's policy files) and shown with
 * the matching rule and, for every other rule, the first field that did not match. The token is
 * verified as the filter verifies it and never written back into the page.
 */
import { EXPLAIN_MODES, explainRequest, type ExplainMode, type ExplainRequest, type Explanation } from '../../../authz/explain.js';
import { readForm } from '../../../http/form.js';
import { html, type SafeHtml } from '../../../login/html.js';
import { ConsoleHttpError, type ConsoleRequest } from '../request.js';
import { CONSOLE_PATH } from '../config.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Header lines not written back into the page: they carry credentials. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

interface FormValues {
  method: string; host: string; path: string; headers: string; peer: string; namespace: string; labels: string; mode: string; sourceIp: string;
}

const EMPTY: FormValues = { method: 'GET', host: 'app.example.com', path: '/', headers: '', peer: '', namespace: '', labels: '', mode: 'grpc', sourceIp: '' };

function field(id: keyof FormValues, label: string, values: FormValues, hint?: string): SafeHtml {
  return html`<div class="field"><label for="x-${id}">${label}</label><input id="x-${id}" name="${id}" value="${values[id]}"${hint ? html` aria-describedby="x-${id}-hint"` : ''}>${hint ? html`<span class="hint" id="x-${id}-hint">${hint}</span>` : ''}</div>`;
}

function form(csrf: string, values: FormValues): SafeHtml {
  return html`<form method="post" action="${CONSOLE_PATH}/explain" class="explain-form">
<input type="hidden" name="csrf" value="${csrf}">
<div class="field"><label for="x-method">Method</label><select id="x-method" name="method">${METHODS.map((m) => html`<option${m === values.method ? html` selected` : ''}>${m}</option>`)}</select></div>
${field('host', 'Host', values)}
${field('path', 'Path (with query)', values)}
<div class="field wide"><label for="x-headers">Headers</label><textarea id="x-headers" name="headers" rows="3" aria-describedby="x-headers-hint">${values.headers}</textarea><span class="hint" id="x-headers-hint">One "name: value" per line.</span></div>
<div class="field wide"><label for="x-token">Token (JWT)</label><input id="x-token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="x-token-hint"><span class="hint" id="x-token-hint">Sent as Authorization: Bearer and verified as the filter verifies it; never shown again.</span></div>
${field('peer', 'Peer identity', values, 'spiffe://cluster.local/ns/NS/sa/SA, empty for plaintext')}
${field('namespace', 'Target namespace', values, 'empty: filter.defaultWorkload')}
${field('labels', 'Target labels', values, 'app=web,version=v1')}
${field('sourceIp', 'Source IP', values)}
<div class="field"><label for="x-mode">Transport</label><select id="x-mode" name="mode">${EXPLAIN_MODES.map((m) => html`<option${m === values.mode ? html` selected` : ''}>${m}</option>`)}</select></div>
<div class="actions"><button type="submit" class="button">Explain</button></div>
</form>`;
}

function tokenLine(e: Explanation): string {
  const t = e.token;
  switch (t.outcome) {
    case 'not-checked': return 'not checked (decided before authentication)';
    case 'none': return t.jwtRules === 0 ? 'none (no jwtRules apply to this workload)' : `none (no token where the workload's ${t.jwtRules} jwtRule(s) look)`;
    case 'failed': return `failed ${t.code}: ${t.message} (${t.location})`;
    case 'verified':
    case 'assumed': return `verified: issuer ${t.issuer}, jwtRule ${t.jwtRule}, from ${t.location}`;
  }
}

function result(e: Explanation): SafeHtml {
  const r = e.result;
  return html`<section class="explain-result" aria-labelledby="result-title" aria-live="polite">
<h2 id="result-title">Decision: <span class="badge ${r.decision === 'allow' ? 'ok' : 'error'}" data-decision="${r.decision}">${r.decision.toUpperCase()}</span> ${r.status} <code>${r.reason}</code></h2>
<p class="decided-by">${r.policy ? html`Decided by <strong>${r.policy}</strong> rule ${(r.rule ?? 0) + 1} (rules[${r.rule}])` : 'No rule decided (see the reason).'}</p>
<dl class="facts">
<dt>Path</dt><dd><code>${e.path}</code> → ${e.normalizedPath !== undefined ? html`<code>${e.normalizedPath}</code>` : 'refused'}</dd>
<dt>Workload</dt><dd>${e.workload.namespace} {${Object.entries(e.workload.labels).map(([k, v]) => `${k}=${v}`).join(',')}}, mTLS ${e.mtlsMode}</dd>
<dt>Token</dt><dd>${tokenLine(e)}</dd>
<dt>Peer</dt><dd>${e.peerPrincipal ?? 'none'}</dd>
<dt>Token principal</dt><dd>${e.requestPrincipal ?? 'none'}</dd>
</dl>
${e.policies.length === 0 ? html`<p>No policies apply to this workload.</p>` : html`<ul class="explained-policies">${e.policies.map((p) => html`<li><strong>${p.action}${p.dryRun ? ' (dry run)' : ''} ${p.policy}</strong>${r.policy === p.policy ? html` <span class="badge info">decided</span>` : ''}
${!e.evaluated ? html`<p class="muted">not evaluated: decided before authorization</p>` : p.rules.length === 0 ? html`<p class="muted">no rules: never matches</p>` : html`<ul>${p.rules.map((rule) => html`<li class="${rule.matched ? 'match' : 'no-match'}">rules[${rule.rule}]: ${rule.matched ? html`<strong>MATCH</strong>` : `no match: ${rule.why}`}</li>`)}</ul>`}</li>`)}</ul>`}
</section>`;
}

export async function explainForm(request: ConsoleRequest): Promise<void> {
  const model = await request.model();
  await request.render(200, {
    title: 'Explain a decision', section: 'explain',
    body: html`${'problems' in model.explain ? html`<p class="error" role="alert">The policies cannot be compiled: ${model.explain.problems.join('; ')}</p>` : ''}${form(request.viewer.csrfToken, EMPTY)}`,
  });
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon).trim())) throw new ConsoleHttpError(400, 'Bad header', `"${line.slice(0, 60)}" is not a "name: value" header line.`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

export async function explainResult(request: ConsoleRequest): Promise<void> {
  const model = await request.model();
  const posted = await readForm(request.ctx);
  const values: FormValues = { ...EMPTY };
  for (const key of Object.keys(EMPTY) as Array<keyof FormValues>) if (typeof posted[key] === 'string') values[key] = posted[key]!;
  if (!METHODS.includes(values.method)) throw new ConsoleHttpError(400, 'Bad method', `"${values.method}" is not one of ${METHODS.join(', ')}.`);
  if (!EXPLAIN_MODES.includes(values.mode as ExplainMode)) throw new ConsoleHttpError(400, 'Bad transport', `use one of ${EXPLAIN_MODES.join(', ')}`);
  const headers = parseHeaders(values.headers);
  const explainInput: ExplainRequest = {
    method: values.method, host: values.host || 'localhost', path: values.path || '/', headers, mode: values.mode as ExplainMode,
    ...(values.peer ? { peer: values.peer } : {}), ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(values.labels ? { labels: values.labels } : {}), ...(values.sourceIp ? { sourceIp: values.sourceIp } : {}),
    ...(posted.token ? { token: posted.token.trim() } : {}),
  };
  if (explainInput.token !== undefined && headers.authorization !== undefined) throw new ConsoleHttpError(400, 'Token given twice', 'Give the token in the Token field or as an Authorization header, not both.');
  const shown = { ...values, headers: values.headers.split(/\r?\n/).filter((l) => !SECRET_HEADERS.has(l.split(':')[0]!.trim().toLowerCase())).join('\n') };
  if ('problems' in model.explain) {
    await request.render(409, { title: 'Explain a decision', section: 'explain', body: html`<p class="error" role="alert">The policies cannot be compiled: ${model.explain.problems.join('; ')}</p>${form(request.viewer.csrfToken, shown)}` });
    return;
  }
  const explanation = await explainRequest(model.explain.policies, explainInput, { config: model.explain.config, logger: request.deps.logger });
  await request.render(200, { title: 'Explain a decision', section: 'explain', body: html`${result(explanation)}${form(request.viewer.csrfToken, shown)}` });
}
