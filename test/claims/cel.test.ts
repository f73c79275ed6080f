/**
 * The CEL layer on its own: compiling (types, result types), the static cost estimate (comprehensions
 * multiply by their range, nesting is refused), the `matches` pattern screen, which claims an
 * expression reads, and the values crossing into and out of CEL.
 */
import { describe, expect, it } from 'vitest';
import { COST_LIMIT, compileExpression, EvaluationError, ExpressionError, RESULT_TYPES } from '../../src/claims/cel.js';
import { matchSteps, screenPattern } from '../../src/claims/regex.js';
import { celMap, celValue, INPUT_LIMITS, InputLimitError, jsonValue, newBudget, ResultTypeError } from '../../src/claims/values.js';

const compile = (source: string, kind: 'claims' | 'user' | 'token' = 'claims') => compileExpression(source, kind, RESULT_TYPES.json);
const claims = (object: Record<string, unknown>) => celMap(object, 'claims', newBudget());

describe('compileExpression', () => {
  it('evaluates against the variables of its environment', () => {
    expect(compile('claims.groups.exists(g, g == "admins")').evaluate({ claims: claims({ groups: ['staff', 'admins'] }) })).toBe(true);
    expect(compile('user.groups.size() + 1', 'user').evaluate({ user: { uid: 'u', username: 'n', preferredUsername: '', email: '', emailVerified: false, groups: ['a'], extra: new Map(), connectorID: 'c' } })).toBe(2n);
  });

  it('knows only its own variables', () => {
    expect(() => compile('scopes.size() > 0', 'user')).toThrow(ExpressionError);
    expect(() => compile('claims.x', 'token')).toThrow(/Unknown variable: claims/);
  });

  it('reports an evaluation error with CEL\'s reason', () => {
    const expression = compile('claims.nickname');
    expect(() => expression.evaluate({ claims: claims({}) })).toThrow(EvaluationError);
    expect(() => expression.evaluate({ claims: claims({}) })).toThrow('No such key: nickname');
  });

  it('never reaches through an object\'s prototype', () => {
    expect(() => compile('claims.constructor').evaluate({ claims: claims({ a: 1 }) })).toThrow('No such key: constructor');
    expect(compile('has(claims.toString)').evaluate({ claims: claims({}) })).toBe(false);
  });
});

describe('cost estimate', () => {
  it('charges a comprehension once per element of its range, at the input caps', () => {
    const once = compile('claims.groups.exists(g, g == "admins")').cost;
    expect(once).toBeGreaterThan(INPUT_LIMITS.maxItems);
    expect(compile('["a", "b"].exists(g, g == "admins")').cost).toBeLessThan(50);
  });

  it('multiplies nested comprehensions, and refuses them over the limit', () => {
    expect(() => compile('claims.groups.all(a, claims.groups.all(b, a != b))')).toThrow(new RegExp(`exceeds the limit of ${COST_LIMIT}`));
    expect(() => compile('claims.groups.all(a, ["x", "y"].all(b, a != b))')).not.toThrow();
  });

  it('carries sizes through: a map over a filter is no longer than the range', () => {
    const direct = compile('claims.teams.map(t, "team:" + t)').cost;
    const filtered = compile('claims.teams.filter(t, t.startsWith("eng-")).map(t, "team:" + t)').cost;
    expect(filtered).toBeGreaterThan(direct);
    expect(filtered).toBeLessThan(2 * direct);
  });
});

describe('matches patterns', () => {
  it('bounds a screened pattern by its repetitions', () => {
    const bound = screenPattern('^[a-z0-9.-]+@example\\.com$');
    expect(bound).toEqual({ length: 26, anchored: true, boundedChoices: 1, unboundedRepetitions: 1 });
    expect(matchSteps(bound as Exclude<typeof bound, string>, 100)).toBe(26 * 101);
    expect(screenPattern('(eng|sre)-[a-z]{1,8}')).toMatchObject({ anchored: false, boundedChoices: 16, unboundedRepetitions: 0 });
  });

  it('refuses what backtracks without bound or is not RE2', () => {
    expect(screenPattern('(a+)+$')).toMatch(/repeats a group that itself repeats/);
    expect(screenPattern('^(a|aa)*$')).toMatch(/repeats a group that itself repeats or alternates/);
    expect(screenPattern('(?=a)a')).toMatch(/lookaround/);
    expect(screenPattern('(a)\\1')).toMatch(/backreference/);
    expect(screenPattern('(?<x>a)\\k<x>')).toMatch(/backreference/);
    expect(screenPattern('a(')).toMatch(/not a valid regular expression/);
  });

  it('accepts a repeated group without repetition inside, and escaped or classed quantifier characters', () => {
    expect(screenPattern('^(ab)+$')).toMatchObject({ unboundedRepetitions: 1 });
    expect(screenPattern('^[(+)]\\+$')).toMatchObject({ unboundedRepetitions: 0 });
  });
});

describe('claims an expression reads', () => {
  it('lists the claims named by field, by literal index and in has()', () => {
    expect([...compile('claims.a == "x" && claims["b-c"] == "y" && has(claims.d)').claimNames!].sort()).toEqual(['a', 'b-c', 'd']);
  });

  it('is everything when claims is used whole or indexed by a value', () => {
    expect(compile('size(claims) > 1').claimNames).toBeUndefined();
    expect(compile('claims[claims.key]').claimNames).toBeUndefined();
    expect(compile('["a"].exists(claims, claims == "a")').claimNames).toBeUndefined();
  });
});

describe('values into CEL', () => {
  it('makes integral numbers int, others double, objects maps', () => {
    const budget = newBudget();
    expect(celValue(42, 'n', budget)).toBe(42n);
    expect(celValue(1.5, 'n', budget)).toBe(1.5);
    expect(celValue({ a: [1, 'x'] }, 'o', budget)).toEqual(new Map([['a', [1n, 'x']]]));
  });

  it('refuses values over the caps, naming the claim', () => {
    expect(() => celValue('x'.repeat(INPUT_LIMITS.maxStringLength + 1), 'hd', newBudget())).toThrow(new InputLimitError(`"hd" is longer than ${INPUT_LIMITS.maxStringLength} characters`));
    expect(() => celMap({ groups: Array(INPUT_LIMITS.maxItems + 1).fill('g') }, 'claims', newBudget())).toThrow('"groups" has more than 1000 values');
    let deep: unknown = 'x';
    for (let level = 0; level <= INPUT_LIMITS.maxDepth; level++) deep = [deep];
    expect(() => celMap({ deep }, 'claims', newBudget())).toThrow(`"deep" nests more than ${INPUT_LIMITS.maxDepth} lists or maps`);
    expect(() => celMap({ a: 'x'.repeat(1000) }, 'claims', { values: 0, chars: INPUT_LIMITS.maxChars - 10 })).toThrow(/more than 100000 characters/);
  });

  it('keeps only the claims asked for', () => {
    expect(celMap({ a: 1, b: 2 }, 'claims', newBudget(), 0, new Set(['b']))).toEqual(new Map([['b', 2n]]));
  });
});

describe('values out of CEL', () => {
  it('makes ints numbers and maps objects', () => {
    expect(jsonValue(new Map<string, unknown>([['n', 3n], ['l', ['a']]]))).toEqual({ n: 3, l: ['a'] });
  });

  it('refuses what JSON cannot hold exactly', () => {
    expect(() => jsonValue(new Uint8Array([1]))).toThrow(ResultTypeError);
    expect(() => jsonValue(2n ** 60n)).toThrow(/too large for a JSON number/);
    expect(() => jsonValue(Number.NaN)).toThrow(/not a JSON number/);
  });
});
