/**
 * IDG0201: an ALLOW policy whose every rule has a condition no request meets — a field and its
 * negation that exclude each other, `notPaths: ["*"]` and the like, or only paths that Envoy's
 * normalization makes unreachable — so it allows nothing and, being an ALLOW policy, denies every
 * request its other policies do not allow. IDG0202: an ALLOW policy with no rules (Istio's deny-all
 * idiom, reported as information).
 */
import type { PathNormalizationOptions } from '../../../authz/policy/normalize-path.js';
import type { Rule } from '../../../authz/policy/resources.js';
import type { CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';
import { conditionContradiction, operationContradiction, sourceContradiction } from '../rule-algebra.js';
import { unreachablePath } from './unreachable-paths.js';

/** Why a rule matches no request, or undefined when some request may match it. */
export function unsatisfiable(rule: Rule, paths: PathNormalizationOptions): string | undefined {
  if (rule.from?.length) {
    const reasons = rule.from.map(({ source }) => sourceContradiction(source));
    if (reasons.every(Boolean)) return `from: ${reasons[0]}`;
  }
  if (rule.to?.length) {
    const reasons = rule.to.map(({ operation }) => {
      const why = operationContradiction(operation);
      if (why) return why;
      const listed = operation.paths;
      if (listed?.length && listed.every((p) => unreachablePath(p, paths))) return 'no request path can match any of its paths after normalization';
      return undefined;
    });
    if (reasons.every(Boolean)) return `to: ${reasons[0]}`;
  }
  for (const condition of rule.when ?? []) {
    const why = conditionContradiction(condition);
    if (why) return `when: ${why}`;
  }
  return undefined;
}

export function checkAllowNothing(context: Pick<CheckContext, 'authorizationPolicies' | 'paths'>): Finding[] {
  const findings: Finding[] = [];
  for (const policy of context.authorizationPolicies) {
    if ((policy.spec.action ?? 'ALLOW') !== 'ALLOW') continue;
    const rules = policy.spec.rules ?? [];
    if (rules.length === 0) {
      findings.push(findingOn(policy, 'IDG0202', 'spec', 'an ALLOW policy with no rules matches no request: every request to the workloads it selects is denied unless another ALLOW policy allows it'));
      continue;
    }
    const reasons = rules.map((rule) => unsatisfiable(rule, context.paths));
    if (!reasons.every(Boolean)) continue;
    const detail = reasons.map((why, i) => `rules[${i}]: ${why}`).join('; ');
    findings.push(findingOn(policy, 'IDG0201', 'spec.rules', `this ALLOW policy can allow nothing, so it denies every request to the workloads it selects (${detail})`));
  }
  return findings;
}
