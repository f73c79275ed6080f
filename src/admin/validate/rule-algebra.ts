/**
 * Static reasoning about AuthorizationPolicy rules with Istio's matching semantics, kept conservative
 * (a "no" when unsure): whether one rule matches every request another matches (shadowing), and
 * whether a field contradicts its own negation (a rule no request meets).
 */
import type { Condition, Operation, Rule, Source } from '../../authz/policy/resources.js';
import { compileStringMatcher } from '../../authz/policy/string-match.js';

type Fields = Record<string, string[] | undefined>;

/** Fields compared as Istio string patterns; the others (IP blocks, ports, service accounts, request principals) literally. */
const PATTERN_FIELDS = new Set(['principals', 'namespaces', 'trustDomains', 'hosts', 'methods', 'paths']);
const CASE_INSENSITIVE = new Set(['hosts']);

const isPattern = (v: string) => v === '*' || (v.length > 1 && (v.startsWith('*') || v.endsWith('*')));

/** Every value `inner` may match is matched by `outer` (exact, `prefix*`, `*suffix`, `*`). */
function patternCovers(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (outer === '*') return inner !== '';
  if (outer.length > 1 && outer.endsWith('*')) {
    const prefix = outer.slice(0, -1);
    return inner.endsWith('*') && inner.length > 1 ? inner.slice(0, -1).startsWith(prefix) : !inner.startsWith('*') && inner.startsWith(prefix);
  }
  if (outer.length > 1 && outer.startsWith('*')) {
    const suffix = outer.slice(1);
    return inner.startsWith('*') && inner.length > 1 ? inner.slice(1).endsWith(suffix) : !inner.endsWith('*') && inner.endsWith(suffix);
  }
  return false;
}

const hasTemplate = (values: readonly string[]) => values.some((v) => v.includes('{'));

function valuesCovered(field: string, outer: readonly string[], inner: readonly string[]): boolean {
  const patterns = PATTERN_FIELDS.has(field) && !(field === 'paths' && (hasTemplate(outer) || hasTemplate(inner)));
  if (!patterns) return inner.every((v) => outer.includes(v));
  if (CASE_INSENSITIVE.has(field)) return inner.every((v) => outer.some((o) => patternCovers(o.toLowerCase(), v.toLowerCase())));
  return inner.every((v) => outer.some((o) => patternCovers(o, v)));
}

/** Every request that meets `inner`'s fields meets `outer`'s: each positive field of outer is narrowed in inner, each negative kept. */
function fieldsCover(outer: Fields, inner: Fields): boolean {
  for (const [field, values] of Object.entries(outer)) {
    if (values === undefined) continue;
    const innerValues = inner[field];
    if (innerValues === undefined) return false;
    if (field.startsWith('not')) {
      if (!values.every((v) => innerValues.includes(v))) return false;
    } else if (!valuesCovered(field, values, innerValues)) return false;
  }
  return true;
}

function branchesCover(outer: readonly Fields[] | undefined, inner: readonly Fields[] | undefined): boolean {
  if (!outer) return true;
  if (!inner) return false;
  return inner.every((i) => outer.some((o) => fieldsCover(o, i)));
}

function conditionCovers(outer: Condition, inner: Condition): boolean {
  if (outer.key !== inner.key) return false;
  if (outer.values && (!inner.values || !valuesCovered('when', outer.values, inner.values))) return false;
  if (outer.notValues && (!inner.notValues || !outer.notValues.every((v) => inner.notValues!.includes(v)))) return false;
  return true;
}

const sources = (rule: Rule) => rule.from?.map((f) => f.source as Fields);
const operations = (rule: Rule) => rule.to?.map((t) => t.operation as Fields);

/** Rule `outer` matches every request rule `inner` matches (both of policies that apply to the same workloads). */
export function ruleCovers(outer: Rule, inner: Rule): boolean {
  // `when` first: it is the cheapest to compare and, among rules of one shape, the one that differs.
  return (
    (outer.when ?? []).every((c) => (inner.when ?? []).some((i) => conditionCovers(c, i))) &&
    branchesCover(operations(outer), operations(inner)) &&
    branchesCover(sources(outer), sources(inner))
  );
}

/** Why a field and its negation leave nothing to match, or undefined. */
function contradiction(field: string, values: readonly string[] | undefined, notValues: readonly string[] | undefined): string | undefined {
  if (!values?.length || !notValues?.length) return undefined;
  if (notValues.includes('*')) return `${field} is required and not${field[0]!.toUpperCase()}${field.slice(1)} excludes every value`;
  if (values.some(isPattern)) return undefined;
  const excluded = compileStringMatcher(notValues, CASE_INSENSITIVE.has(field));
  const fold = CASE_INSENSITIVE.has(field) ? (v: string) => v.toLowerCase() : (v: string) => v;
  return values.every((v) => excluded(fold(v))) ? `every value of ${field} is excluded by its negation` : undefined;
}

const SOURCE_PAIRS = ['principals', 'namespaces', 'trustDomains'] as const;
const OPERATION_PAIRS = ['hosts', 'methods', 'paths', 'ports'] as const;
/** Attributes every HTTP request has: their negation with `*` excludes every request. */
const ALWAYS_PRESENT = ['notHosts', 'notMethods', 'notPaths'] as const;

export function sourceContradiction(source: Source): string | undefined {
  for (const field of SOURCE_PAIRS) {
    const why = contradiction(field, source[field], source[`not${field[0]!.toUpperCase()}${field.slice(1)}` as keyof Source]);
    if (why) return why;
  }
  return undefined;
}

export function operationContradiction(operation: Operation): string | undefined {
  for (const field of ALWAYS_PRESENT) if (operation[field]?.includes('*')) return `${field}: ["*"] excludes every request`;
  for (const field of OPERATION_PAIRS) {
    const why = contradiction(field, operation[field], operation[`not${field[0]!.toUpperCase()}${field.slice(1)}` as keyof Operation]);
    if (why) return why;
  }
  return undefined;
}

export function conditionContradiction(condition: Condition): string | undefined {
  const why = contradiction('values', condition.values, condition.notValues);
  return why ? `${condition.key}: ${why}` : undefined;
}
