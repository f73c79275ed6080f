/**
 * `--format sarif`: a SARIF 2.1.0 log for code scanning. One rule per code (all of them, so a rule's
 * index never moves), one result per finding located at file and line, the object as a logical
 * location, and the skipped checks as tool execution notifications.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODES, type Code, type Severity } from '../codes.js';
import type { ValidationReport } from '../validate-sources.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** A file as a URI reference: relative to the working directory when it is inside it, else a file: URL. */
function artifactUri(file: string, cwd: string): string {
  const rel = isAbsolute(file) ? relative(cwd, file) : file;
  if (rel.startsWith('..') || isAbsolute(rel)) return pathToFileURL(file).href;
  return encodeURI(rel.split(sep).join('/'));
}

export function formatSarif(report: ValidationReport, options: { toolVersion?: string; cwd?: string } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const codes = Object.keys(CODES) as Code[];
  const rules = codes.map((code) => ({
    id: code,
    shortDescription: { text: CODES[code].title },
    defaultConfiguration: { level: LEVEL[CODES[code].severity] },
    properties: { kinds: [...CODES[code].kinds], runsOnReload: CODES[code].onReload },
  }));
  const results = report.findings.map((f) => ({
    ruleId: f.code,
    ruleIndex: codes.indexOf(f.code),
    level: LEVEL[f.severity],
    message: { text: f.value !== undefined ? `${f.message} (value: ${JSON.stringify(f.value)})` : f.message },
    locations: [{
      physicalLocation: {
        artifactLocation: { uri: artifactUri(f.file, cwd) },
        ...(f.line !== undefined ? { region: { startLine: f.line } } : {}),
      },
      ...(f.kind ? { logicalLocations: [{ fullyQualifiedName: `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`, kind: 'resource' }] } : {}),
    }],
    properties: {
      path: f.path,
      kind: f.kind,
      name: f.name,
      namespace: f.namespace,
      ...(f.value !== undefined ? { value: f.value } : {}),
      ...(f.references ? { references: f.references } : {}),
    },
  }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'idgate validate', ...(options.toolVersion ? { version: options.toolVersion } : {}), rules } },
      invocations: [{
        executionSuccessful: true,
        toolExecutionNotifications: report.skipped.map((s) => ({ level: 'note', message: { text: `skipped ${s.codes.join(', ')}: ${s.reason}` } })),
      }],
      results,
    }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
