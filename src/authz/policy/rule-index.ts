/**
 * Rules indexed by the first path segment they can match, so a request only tests the rules that
 * could apply to its path plus the rules that match any path. Candidates are merged in rule order, so
 * the first match is the same rule a linear scan would find.
 */
import type { RequestAttributes } from './attributes.js';
import { ruleBodyMatches, type CompiledRuleBody } from './compile-rule.js';
import { isPathTemplate } from './path-template.js';
import { firstSegment } from './normalize-path.js';
import type { Rule } from './resources.js';

export interface CompiledRule {
  /** The policy this rule belongs to, "ns/name". */
  policy: string;
  index: number;
  /** Global order, for deterministic first-match. */
  ordinal: number;
  body: CompiledRuleBody;
  /** First path segments the rule can match; undefined when it may match any path. */
  segments?: readonly string[];
}

/** The first segments a path pattern can match, or undefined when it is not confined to a literal one. */
function patternSegment(pattern: string): string | undefined {
  if (!pattern.startsWith('/') || pattern.startsWith('/*') || pattern === '*') return undefined;
  const end = pattern.indexOf('/', 1);
  if (isPathTemplate(pattern)) {
    const segment = end === -1 ? pattern.slice(1) : pattern.slice(1, end);
    return segment === '{*}' || segment === '{**}' ? undefined : segment;
  }
  if (pattern.endsWith('*')) return end === -1 || end >= pattern.length - 1 ? undefined : pattern.slice(1, end);
  return firstSegment(pattern);
}

export function ruleSegments(rule: Rule): string[] | undefined {
  if (!rule.to) return undefined;
  const segments = new Set<string>();
  for (const { operation } of rule.to) {
    if (!operation.paths) return undefined;
    for (const path of operation.paths) {
      const segment = patternSegment(path);
      if (segment === undefined) return undefined;
      segments.add(segment);
    }
  }
  return [...segments];
}

export class RuleIndex {
  private readonly bySegment = new Map<string, CompiledRule[]>();
  private readonly anyPath: CompiledRule[] = [];
  readonly size: number;

  constructor(readonly rules: readonly CompiledRule[]) {
    this.size = rules.length;
    for (const rule of rules) {
      if (!rule.segments) {
        this.anyPath.push(rule);
        continue;
      }
      for (const segment of rule.segments) {
        const list = this.bySegment.get(segment);
        if (list) list.push(rule);
        else this.bySegment.set(segment, [rule]);
      }
    }
  }

  /** The first rule (in order) that matches, or undefined. */
  firstMatch(attributes: RequestAttributes): CompiledRule | undefined {
    if (this.size === 0) return undefined;
    const keyed = this.bySegment.get(firstSegment(attributes.path));
    const general = this.anyPath;
    if (!keyed) return firstOf(general, attributes);
    let i = 0;
    let j = 0;
    while (i < keyed.length || j < general.length) {
      const next = j >= general.length || (i < keyed.length && keyed[i]!.ordinal < general[j]!.ordinal) ? keyed[i++]! : general[j++]!;
      if (ruleBodyMatches(next.body, attributes)) return next;
    }
    return undefined;
  }

  /** Every policy with at least one matching rule (AUDIT marks all of them). */
  matchingPolicies(attributes: RequestAttributes): string[] {
    const out: string[] = [];
    for (const rule of this.rules) {
      if (!out.includes(rule.policy) && ruleBodyMatches(rule.body, attributes)) out.push(rule.policy);
    }
    return out;
  }
}

function firstOf(rules: readonly CompiledRule[], attributes: RequestAttributes): CompiledRule | undefined {
  for (const rule of rules) if (ruleBodyMatches(rule.body, attributes)) return rule;
  return undefined;
}
