/**
 * Config errors: each names the config path and the reason (`staticClients[0].redirectURIs[1]: not
 * an absolute URL`), with the line in the file where it can be found.
 */

export interface ConfigProblem {
  /** Dotted path with [index] for arrays, e.g. `connectors[2].config.ssoURL`; "" for the file itself. */
  path: string;
  message: string;
  line?: number;
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: invalid configuration\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line ? ` (line ${problem.line})` : '';
  return problem.path ? `${problem.path}: ${problem.message}${where}` : `${problem.message}${where}`;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
