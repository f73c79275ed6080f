/**
 * Values crossing into and out of CEL. In: what a connector read (JSON-like claims, directory or
 * assertion attributes) becomes CEL values within fixed caps, which the cost estimate (cost.ts)
 * relies on, so a value over a cap refuses the login instead of growing the evaluation. Out: what
 * an expression produced becomes a JSON claim value, or is refused as one.
 */

/** The caps on what an expression may be given; the cost estimate assumes inputs this large. */
export const INPUT_LIMITS = {
  /** Characters in one string (a claim, one group name). */
  maxStringLength: 1024,
  /** Entries in one list or map (groups, a claim's values). */
  maxItems: 1000,
  /** Values in all the claims an expression reads, nested ones included. */
  maxValues: 10_000,
  /** Characters in all the strings of those claims together. */
  maxChars: 100_000,
  /** Lists and maps nested in one another. */
  maxDepth: 8,
} as const;

/** A value over a cap; `message` says which and is shown to the person. */
export class InputLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputLimitError';
  }
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Counts values across one input (all of `claims`, all of `user`). */
export interface InputBudget {
  values: number;
  chars: number;
}

export function newBudget(): InputBudget {
  return { values: 0, chars: 0 };
}

/**
 * `value` as CEL sees it: integral numbers become int, other numbers double, objects maps (Map: no
 * prototype to reach through), bytes bytes. Undefined and values JSON has no form for are left out.
 */
export function celValue(value: unknown, name: string, budget: InputBudget, depth = 0): unknown {
  if (++budget.values > INPUT_LIMITS.maxValues) throw new InputLimitError(`the identity provider sent more than ${INPUT_LIMITS.maxValues} values in its claims`);
  if (typeof value === 'string') {
    if (value.length > INPUT_LIMITS.maxStringLength) throw new InputLimitError(`"${name}" is longer than ${INPUT_LIMITS.maxStringLength} characters`);
    budget.chars += value.length;
    if (budget.chars > INPUT_LIMITS.maxChars) throw new InputLimitError(`the identity provider sent more than ${INPUT_LIMITS.maxChars} characters in its claims`);
    return value;
  }
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value === 'boolean' || value === null || typeof value === 'bigint') return value;
  if (value instanceof Uint8Array) {
    if (value.length > INPUT_LIMITS.maxStringLength) throw new InputLimitError(`"${name}" is longer than ${INPUT_LIMITS.maxStringLength} bytes`);
    return new Uint8Array(value);
  }
  if (depth >= INPUT_LIMITS.maxDepth && typeof value === 'object') throw new InputLimitError(`"${name}" nests more than ${INPUT_LIMITS.maxDepth} lists or maps`);
  if (Array.isArray(value)) {
    if (value.length > INPUT_LIMITS.maxItems) throw new InputLimitError(`"${name}" has more than ${INPUT_LIMITS.maxItems} values`);
    return value.filter((item) => item !== undefined).map((item) => celValue(item, name, budget, depth + 1));
  }
  if (typeof value === 'object') return celMap(value as Record<string, unknown>, name, budget, depth + 1);
  return undefined;
}

/** An object's entries as a CEL map; `only` keeps just those keys (the claims an expression reads). */
export function celMap(object: Record<string, unknown>, name: string, budget: InputBudget, depth = 0, only?: ReadonlySet<string>): Map<string, unknown> {
  const keys = Object.keys(object).filter((key) => object[key] !== undefined && (!only || only.has(key)));
  if (keys.length > INPUT_LIMITS.maxItems) throw new InputLimitError(`"${name}" has more than ${INPUT_LIMITS.maxItems} entries`);
  const map = new Map<string, unknown>();
  for (const key of keys) {
    const converted = celValue(object[key], depth === 0 ? key : `${name}.${key}`, budget, depth);
    if (converted !== undefined) map.set(key, converted);
  }
  return map;
}

/** Why a result cannot be a claim value. */
export class ResultTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultTypeError';
  }
}

/** A CEL result as a JSON claim value: int and uint as numbers (if exact), maps as objects. */
export function jsonValue(value: unknown): JsonValue {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ResultTypeError(`${value} is not a JSON number`);
    return value;
  }
  if (typeof value === 'bigint') return exactNumber(value);
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value instanceof Map) return Object.fromEntries([...value].map(([key, item]) => [mapKey(key), jsonValue(item)]));
  if (typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonValue(item)]));
  }
  // uint values are objects whose valueOf is a bigint.
  if (typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'bigint') return exactNumber((value as { valueOf(): bigint }).valueOf());
  throw new ResultTypeError('a claim value must be a string, number, bool, list or map (not bytes, a timestamp, a duration or a type)');
}

function exactNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new ResultTypeError(`${value} is too large for a JSON number`);
  return Number(value);
}

function mapKey(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  throw new ResultTypeError('a map claim value must have string keys');
}
