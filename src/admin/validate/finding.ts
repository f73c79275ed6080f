/**
 * A finding: one code on one object (file, line, kind, namespace/name), at one field path, with the
 * offending value. Checkers build them with `findingOn`, which takes the severity from the code table
 * and the line from where the loader found the field.
 */
import type { PolicyProblem } from '../../authz/errors.js';
import { CODES, SEVERITY_RANK, type Code, type Severity } from './codes.js';

export interface Finding {
  code: Code;
  severity: Severity;
  file: string;
  /** 1-based, where known. */
  line?: number;
  /** 0-based index of the YAML document in the file. */
  document?: number;
  kind: string;
  name: string;
  namespace: string;
  /** The field path (`spec.rules[0].from[0].source.principals[1]`); "" for the whole object. */
  path: string;
  message: string;
  /** The offending value, as written. */
  value?: string;
  /** The other objects involved (`Kind namespace/name`), for codes about several objects. */
  references?: string[];
}

/** What a finding is about: a policy resource, a DestinationRule, an inventory document. */
export interface Subject {
  kind: string;
  name: string;
  namespace: string;
  file: string;
  document?: number;
  locate?: (path: string) => number | undefined;
}

export interface FindingDetails {
  value?: string;
  severity?: Severity;
  references?: string[];
}

export function findingOn(subject: Subject, code: Code, path: string, message: string, details: FindingDetails = {}): Finding {
  const line = subject.locate?.(path);
  return {
    code,
    severity: details.severity ?? CODES[code].severity,
    file: subject.file,
    ...(line !== undefined ? { line } : {}),
    ...(subject.document !== undefined ? { document: subject.document } : {}),
    kind: subject.kind,
    name: subject.name,
    namespace: subject.namespace,
    path,
    message,
    ...(details.value !== undefined ? { value: details.value } : {}),
    ...(details.references?.length ? { references: details.references } : {}),
  };
}

export function label(subject: Pick<Subject, 'kind' | 'name' | 'namespace'>): string {
  return `${subject.kind} ${subject.namespace}/${subject.name}`;
}

/**
 * A loader problem as a finding: its own code where the rule has one (KIA0102, IDG0501, IDG0502),
 * else IDG0001 with the loader's severity.
 */
export function findingFromProblem(problem: PolicyProblem): Finding {
  const [, kind = '', namespace = '', name = ''] = /^(\S+) ([^/]*)\/(.*)$/.exec(problem.resource ?? '') ?? [];
  const code = (problem.code && problem.code in CODES ? problem.code : 'IDG0001') as Code;
  return {
    code,
    severity: problem.severity,
    file: problem.file,
    ...(problem.line !== undefined ? { line: problem.line } : {}),
    document: problem.document,
    kind,
    name,
    namespace,
    path: problem.path,
    message: problem.message.replace(/ \(KIA\d{4}\)$/, ''),
  };
}

/** A finding in the loader's shape, so an error found at reload is refused like any invalid policy. */
export function problemFromFinding(finding: Finding): PolicyProblem {
  const resource = finding.kind ? `${finding.kind} ${finding.namespace}/${finding.name}` : undefined;
  return {
    file: finding.file,
    document: finding.document ?? 0,
    ...(resource ? { resource } : {}),
    path: finding.path,
    message: `${finding.message} (${finding.code})`,
    severity: finding.severity === 'error' ? 'error' : 'warning',
    code: finding.code,
    ...(finding.line !== undefined ? { line: finding.line } : {}),
  };
}

export function worstSeverity(findings: readonly Finding[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings) if (worst === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

/** Stable order: file, line, then code. */
export function compareFindings(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || a.code.localeCompare(b.code) || a.path.localeCompare(b.path);
}
