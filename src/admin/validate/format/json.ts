/**
 * `--format json`: one JSON object per finding, one per line (JSON Lines), keys in a fixed order:
 * code, severity, file, line, document, kind, name, namespace, path, message, value, references.
 */
import type { Finding } from '../finding.js';

export function formatJsonLines(findings: readonly Finding[]): string {
  return findings
    .map((f) => JSON.stringify({
      code: f.code,
      severity: f.severity,
      file: f.file,
      line: f.line ?? null,
      document: f.document ?? null,
      kind: f.kind,
      name: f.name,
      namespace: f.namespace,
      path: f.path,
      message: f.message,
      ...(f.value !== undefined ? { value: f.value } : {}),
      ...(f.references ? { references: f.references } : {}),
    }))
    .map((line) => `${line}\n`)
    .join('');
}
