/**
 * The patterns CEL's `matches` may use, screened when the config loads. CEL specifies RE2, which
 * matches in linear time; the CEL library evaluates `matches` with JavaScript's backtracking RegExp,
 * whose time grows with the number of ways a pattern can split its input. So a pattern must be a
 * literal, must compile here, must not use what RE2 lacks (backreferences, lookaround: they are
 * also what makes backtracking unavoidable) and must not repeat a group that itself repeats or
 * alternates (`(a+)+`, `(a|a)*`: exponential). What remains costs at most
 * length × start positions × the product of each repetition's choices, which the cost estimate
 * (cost.ts) charges against the expression's limit.
 */

/** How much a screened pattern can backtrack. */
export interface PatternBound {
  /** Characters in the pattern: the work per attempted position. */
  length: number;
  /** Starts with `^` (one start position instead of one per input character). */
  anchored: boolean;
  /** Product of the choices of bounded repetitions (`?` 2, `{2,5}` 4) and alternations (k branches). */
  boundedChoices: number;
  /** Repetitions without an upper bound (`*`, `+`, `{n,}`): each may take any share of the input. */
  unboundedRepetitions: number;
}

/** One parenthesised group (or the whole pattern) as it is read. */
interface Frame {
  alternatives: number;
  boundedChoices: number;
  unboundedRepetitions: number;
  /** Holds a repetition or an alternation: repeating this group is refused. */
  varies: boolean;
}

/** What the last atom was, for the quantifier that may follow it. */
interface Atom {
  varies: boolean;
  boundedChoices: number;
  unboundedRepetitions: number;
}

const QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

/** The pattern's backtracking bound, or why it is refused. */
export function screenPattern(pattern: string): PatternBound | string {
  try {
    new RegExp(pattern);
  } catch (error) {
    return `is not a valid regular expression (${(error as Error).message})`;
  }
  const stack: Frame[] = [newFrame()];
  let atom: Atom | undefined;
  for (let at = 0; at < pattern.length; at++) {
    const char = pattern[at]!;
    const frame = stack[stack.length - 1]!;
    if (char === '\\') {
      const next = pattern[at + 1] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && pattern[at + 2] === '<')) return 'uses a backreference, which RE2 (CEL\'s regular expressions) does not have';
      at++;
      atom = plainAtom();
    } else if (char === '[') {
      at = classEnd(pattern, at);
      atom = plainAtom();
    } else if (char === '(') {
      if (/^\(\?(=|!|<=|<!)/.test(pattern.slice(at))) return 'uses lookaround, which RE2 (CEL\'s regular expressions) does not have';
      stack.push(newFrame());
      atom = undefined;
    } else if (char === ')') {
      const group = stack.pop()!;
      atom = {
        varies: group.varies || group.alternatives > 1,
        boundedChoices: group.boundedChoices * group.alternatives,
        unboundedRepetitions: group.unboundedRepetitions,
      };
      merge(stack[stack.length - 1]!, atom);
    } else if (char === '|') {
      frame.alternatives++;
      atom = undefined;
    } else if (char === '*' || char === '+' || char === '?' || (char === '{' && QUANTIFIER.test(pattern.slice(at)))) {
      const quantifier = char === '{' ? QUANTIFIER.exec(pattern.slice(at))! : undefined;
      if (quantifier) at += quantifier[0].length - 1;
      if (pattern[at + 1] === '?') at++; // lazy: the same choices, tried in another order
      if (atom?.varies) return 'repeats a group that itself repeats or alternates (e.g. (a+)+ or (a|b)*), which can take exponential time; repeat a character class instead';
      const min = quantifier ? Number(quantifier[1]) : char === '+' ? 1 : 0;
      const max = quantifier ? (quantifier[2] === undefined ? min : quantifier[3] === '' ? Infinity : Number(quantifier[3])) : char === '?' ? 1 : Infinity;
      if (max === Infinity) frame.unboundedRepetitions++;
      else frame.boundedChoices *= max - min + 1;
      if (min !== max) frame.varies = true;
      atom = undefined;
    } else {
      atom = plainAtom();
    }
  }
  const top = stack[0]!;
  return {
    length: pattern.length,
    anchored: pattern.startsWith('^') && top.alternatives === 1,
    boundedChoices: top.boundedChoices * top.alternatives,
    unboundedRepetitions: top.unboundedRepetitions,
  };
}

/** The most steps matching a subject of `subjectLength` characters can take. */
export function matchSteps(bound: PatternBound, subjectLength: number): number {
  const starts = bound.anchored ? 1 : subjectLength + 1;
  return bound.length * starts * bound.boundedChoices * (subjectLength + 1) ** bound.unboundedRepetitions;
}

function newFrame(): Frame {
  return { alternatives: 1, boundedChoices: 1, unboundedRepetitions: 0, varies: false };
}

function plainAtom(): Atom {
  return { varies: false, boundedChoices: 1, unboundedRepetitions: 0 };
}

/** A closed group's choices count in the group around it. */
function merge(frame: Frame, group: Atom): void {
  frame.boundedChoices *= group.boundedChoices;
  frame.unboundedRepetitions += group.unboundedRepetitions;
  frame.varies ||= group.varies;
}

/** Index of the `]` closing the class opened at `start` (JavaScript's reading: the first unescaped one). */
function classEnd(pattern: string, start: number): number {
  for (let at = start + 1; at < pattern.length; at++) {
    if (pattern[at] === '\\') at++;
    else if (pattern[at] === ']') return at;
  }
  return pattern.length;
}
