/**
 * Pieces several console pages share: a finding as a line (code, severity, field, message, file:line),
 * the file:line of an object, counts, times.
 */
import { html, type SafeHtml } from '../../../login/html.js';
import type { Finding } from '../../validate/finding.js';

export function severityBadge(severity: Finding['severity']): SafeHtml {
  return html`<span class="badge ${severity}">${severity}</span>`;
}

export function whereFrom(file: string, line: number | undefined): string {
  return line !== undefined ? `${file}:${line}` : file;
}

export function findingItem(finding: Finding): SafeHtml {
  return html`<li class="finding ${finding.severity}">${severityBadge(finding.severity)} <strong class="code">${finding.code}</strong> ${finding.path ? html`<code>${finding.path}</code> ` : ''}${finding.message}${finding.value !== undefined ? html` <span class="value">(value: <code>${finding.value}</code>)</span>` : ''} <span class="where">${whereFrom(finding.file, finding.line)}</span></li>`;
}

export function findingList(findings: readonly Finding[]): SafeHtml {
  if (findings.length === 0) return html`<p class="clean">No validation findings.</p>`;
  return html`<ul class="findings" aria-label="Validation findings">${findings.map(findingItem)}</ul>`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A query parameter as one string ("" when absent or repeated). */
export function queryParam(query: Record<string, string | string[] | undefined>, name: string): string {
  const value = query[name];
  return typeof value === 'string' ? value : '';
}
