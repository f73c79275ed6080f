/**
 * Readable output, one line per finding (`file:line: severity CODE Kind ns/name path: message (value)`),
 * then a summary and the checks that were skipped and why.
 */
import type { Finding } from '../finding.js';
import type { ValidationReport } from '../validate-sources.js';

function where(finding: Finding): string {
  return finding.line !== undefined ? `${finding.file}:${finding.line}` : finding.file;
}

export function formatFindingLine(finding: Finding): string {
  const object = finding.kind ? ` ${finding.kind} ${finding.namespace ? `${finding.namespace}/` : ''}${finding.name}` : '';
  const path = finding.path ? ` ${finding.path}` : '';
  const value = finding.value !== undefined ? ` (value: ${JSON.stringify(finding.value)})` : '';
  const references = finding.references?.length ? ` [with ${finding.references.join(', ')}]` : '';
  return `${where(finding)}: ${finding.severity} ${finding.code}${object}${path}: ${finding.message}${value}${references}`;
}

export function formatText(report: ValidationReport): string {
  const count = (severity: Finding['severity']) => report.findings.filter((f) => f.severity === severity).length;
  const lines = report.findings.map(formatFindingLine);
  lines.push(`${report.files.length} file(s), ${report.objects} object(s): ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info`);
  if (report.ignored) lines.push(`note: not read: ${[...report.ignored].map(([kind, n]) => `${n} ${kind}`).join(', ')}`);
  for (const skipped of report.skipped) lines.push(`note: skipped ${skipped.codes.join(', ')}: ${skipped.reason}`);
  return `${lines.join('\n')}\n`;
}
