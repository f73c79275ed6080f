/**
 * IDG0203: a rule that an earlier rule shadows — same action and dry-run, the earlier one's policy
 * applies to every workload this one's does (root namespace or the same namespace, a selector that is
 * a subset), and it matches every request this rule matches — so this rule never decides, and never
 * shows in `authz explain` or the audit line. Order is the filter's: root-namespace policies first,
 * then as the files list them, rules in order. Comparison is pairwise, so a group of more than
 * MAX_RULES_COMPARED rules (one action, one namespace and the root) is skipped.
 */
import type { Rule } from '../../../authz/policy/resources.js';
import type { AuthorizationPolicy, CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';
import { ruleCovers } from '../rule-algebra.js';

export const MAX_RULES_COMPARED = 2000;

interface Entry {
  policy: AuthorizationPolicy;
  index: number;
  rule: Rule;
}

function selectorWithin(outer: Readonly<Record<string, string>> | undefined, inner: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(outer ?? {}).every(([k, v]) => inner?.[k] === v);
}

function appliesWherever(outer: AuthorizationPolicy, inner: AuthorizationPolicy, root: string): boolean {
  return (outer.namespace === root || outer.namespace === inner.namespace) && selectorWithin(outer.spec.selector?.matchLabels, inner.spec.selector?.matchLabels);
}

export function checkShadowedRules(context: Pick<CheckContext, 'authorizationPolicies'>, rootNamespace: string): Finding[] {
  const ordered = context.authorizationPolicies
    .filter((p) => p.spec.action !== 'CUSTOM')
    .sort((a, b) => Number(b.namespace === rootNamespace) - Number(a.namespace === rootNamespace) || a.order - b.order);
  const groups = new Map<string, Entry[]>();
  for (const policy of ordered) {
    const key = `${policy.spec.action ?? 'ALLOW'}\n${policy.annotations['istio.io/dry-run'] === 'true'}\n${policy.namespace === rootNamespace ? '' : policy.namespace}`;
    const entries = (policy.spec.rules ?? []).map((rule, index) => ({ policy, index, rule }));
    groups.set(key, [...(groups.get(key) ?? []), ...entries]);
  }
  const findings: Finding[] = [];
  for (const [key, entries] of groups) {
    // A namespace's rules come after the root namespace's of the same action and dry-run.
    const rootKey = key.replace(/[^\n]*$/, '');
    const earlier = key === rootKey ? [] : (groups.get(rootKey) ?? []);
    if (earlier.length + entries.length > MAX_RULES_COMPARED) continue;
    entries.forEach((entry, i) => {
      const covers = (e: Entry) => (e.policy === entry.policy || appliesWherever(e.policy, entry.policy, rootNamespace)) && ruleCovers(e.rule, entry.rule);
      let shadow = earlier.find(covers);
      for (let j = 0; j < i && !shadow; j++) if (covers(entries[j]!)) shadow = entries[j];
      if (!shadow) return;
      const where = shadow.policy === entry.policy ? `rules[${shadow.index}] of this policy` : `${shadow.policy.namespace}/${shadow.policy.name} rules[${shadow.index}]`;
      findings.push(findingOn(entry.policy, 'IDG0203', `spec.rules[${entry.index}]`, `shadowed by ${where}: that rule matches every request this one matches, so this one never decides`, {
        ...(shadow.policy === entry.policy ? {} : { references: [`AuthorizationPolicy ${shadow.policy.namespace}/${shadow.policy.name}`] }),
      }));
    });
  }
  return findings;
}
