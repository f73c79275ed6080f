/**
 * The filter's typed errors. Each has a stable `code` callers and tests switch on; policy errors also
 * carry the file, document and field path they concern.
 */

export type FilterErrorCode =
  | 'ERR_POLICY_INVALID'
  | 'ERR_POLICY_UNSUPPORTED'
  | 'ERR_POLICY_READ'
  | 'ERR_JWKS_FETCH'
  | 'ERR_FILTER_LISTEN';

export class FilterError extends Error {
  constructor(
    readonly code: FilterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

/** One problem in one policy document, e.g. `spec.rules[0].to[0].operation.paths[1]: ...`. */
export interface PolicyProblem {
  file: string;
  /** 0-based index of the YAML document within the file. */
  document: number;
  /** `Kind namespace/name`, when known. */
  resource?: string;
  path: string;
  message: string;
  severity: 'error' | 'warning';
  /** A stable finding code (KIA0102, IDG0501 ...) where the rule has one; `idgate validate` reports it. */
  code?: string;
  /** 1-based line of the field, when the loader was asked to locate fields (`idgate validate`). */
  line?: number;
}

export function formatPolicyProblem(problem: PolicyProblem): string {
  const where = `${problem.file}#${problem.document}${problem.resource ? ` (${problem.resource})` : ''}`;
  return `${problem.severity}: ${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

export class PolicyError extends FilterError {
  constructor(readonly problems: PolicyProblem[]) {
    super('ERR_POLICY_INVALID', `invalid policies\n${problems.map((p) => `  ${formatPolicyProblem(p)}`).join('\n')}`);
    this.name = 'PolicyError';
  }
}
