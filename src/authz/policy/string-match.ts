/**
 * Istio's string patterns compiled once into predicates: `abc` exact, `abc*` prefix, `*abc` suffix,
 * `*` presence (non-empty). A `*` anywhere else is literal. Hosts compare case-insensitively.
 */

export type StringPredicate = (value: string | undefined) => boolean;

export interface PatternSet {
  exact: Set<string>;
  prefixes: string[];
  suffixes: string[];
  presence: boolean;
}

export function classifyPatterns(patterns: readonly string[], ignoreCase = false): PatternSet {
  const set: PatternSet = { exact: new Set(), prefixes: [], suffixes: [], presence: false };
  for (const raw of patterns) {
    const pattern = ignoreCase ? raw.toLowerCase() : raw;
    if (pattern === '*') set.presence = true;
    else if (pattern.length > 1 && pattern.endsWith('*')) set.prefixes.push(pattern.slice(0, -1));
    else if (pattern.length > 1 && pattern.startsWith('*')) set.suffixes.push(pattern.slice(1));
    else set.exact.add(pattern);
  }
  return set;
}

/** A predicate true when the value matches any of the patterns; a missing value never matches. */
export function compileStringMatcher(patterns: readonly string[], ignoreCase = false): StringPredicate {
  const { exact, prefixes, suffixes, presence } = classifyPatterns(patterns, ignoreCase);
  if (presence) return (value) => value !== undefined && value !== '';
  const onlyExact = prefixes.length === 0 && suffixes.length === 0;
  if (onlyExact && exact.size === 1) {
    const [only] = exact;
    return ignoreCase ? (value) => value !== undefined && value.toLowerCase() === only : (value) => value === only;
  }
  return (raw) => {
    if (raw === undefined) return false;
    const value = ignoreCase ? raw.toLowerCase() : raw;
    if (exact.has(value)) return true;
    for (const prefix of prefixes) if (value.startsWith(prefix)) return true;
    for (const suffix of suffixes) if (value.endsWith(suffix)) return true;
    return false;
  };
}

/** For list-valued attributes (claims, audiences): true when any element matches. */
export function anyElement(match: StringPredicate): (values: readonly string[] | undefined) => boolean {
  return (values) => {
    if (!values) return false;
    for (const value of values) if (match(value)) return true;
    return false;
  };
}
