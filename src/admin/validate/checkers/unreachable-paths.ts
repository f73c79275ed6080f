/**
 * IDG0401: a `paths`/`notPaths` value that no request path can match, because the filter matches the
 * path after Envoy's normalization (normalizeRequestPath, with the filter's pathNormalization and
 * escaped-slash settings) and the pattern is not in normalized form: "/a/../b", "/a/./b", "//x" with
 * MERGE_SLASHES, "%2F" with DECODE_AND_MERGE_SLASHES, "%7E" (decoded to "~"), a query or fragment,
 * anything not starting with "/".
 */
import { normalizeRequestPath, type PathNormalizationOptions } from '../../../authz/policy/normalize-path.js';
import { isPathTemplate } from '../../../authz/policy/path-template.js';
import type { Operation } from '../../../authz/policy/resources.js';
import type { AuthorizationPolicy, CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';

/**
 * Why a path pattern matches no normalized path, or undefined when some path can match it. A prefix
 * is tried with a segment after it, a suffix with one before it, a template with its operators filled.
 */
export function unreachablePath(pattern: string, options: PathNormalizationOptions): string | undefined {
  if (pattern === '*') return undefined;
  let sample = pattern;
  let fits = (path: string) => path === pattern;
  if (isPathTemplate(pattern)) {
    sample = pattern.replaceAll('{**}', 'x/y').replaceAll('{*}', 'x');
    fits = (path) => path === sample;
  } else if (pattern.length > 1 && pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    sample = `${prefix}x`;
    fits = (path) => path.startsWith(prefix);
  } else if (pattern.length > 1 && pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    sample = `/x${suffix}`;
    fits = (path) => path.endsWith(suffix);
  }
  const normalized = normalizeRequestPath(sample, { ...options, rawTarget: false });
  if (!normalized.ok) return `a request path like "${sample}" is refused (${normalized.reason})`;
  return fits(normalized.path) ? undefined : `a request path like "${sample}" is matched as "${normalized.path}"`;
}

function checkOperation(policy: AuthorizationPolicy, operation: Operation, at: string, options: PathNormalizationOptions): Finding[] {
  const findings: Finding[] = [];
  for (const field of ['paths', 'notPaths'] as const) {
    (operation[field] ?? []).forEach((pattern, i) => {
      const why = unreachablePath(pattern, options);
      if (why) findings.push(findingOn(policy, 'IDG0401', `${at}.${field}[${i}]`, `no request matches "${pattern}" after path normalization (${options.normalization}): ${why}`, { value: pattern }));
    });
  }
  return findings;
}

export function checkUnreachablePaths(context: Pick<CheckContext, 'authorizationPolicies' | 'paths'>): Finding[] {
  return context.authorizationPolicies.flatMap((policy) =>
    (policy.spec.rules ?? []).flatMap((rule, r) => (rule.to ?? []).flatMap(({ operation }, t) => checkOperation(policy, operation, `spec.rules[${r}].to[${t}].operation`, context.paths))));
}
