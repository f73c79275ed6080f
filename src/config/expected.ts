/**
 * Config type errors in words: what a path expects, read from the schema ("a list of strings", "true
 * or false", "a duration such as \"24h\""), and what was written instead ("a string", "5"). Strings
 * written are never echoed: the value may be a secret put under the wrong key.
 */
import type { z } from 'zod';
import { defOf, schemasAt, unwrapDescribed } from './schema-walk.js';

function isWholeNumber(def: ReturnType<typeof defOf>): boolean {
  return def.checks?.some((check) => check._zod.def.format === 'safeint' || check._zod.def.format === 'int32') ?? false;
}

/** One schema's expectation, as a noun phrase; `plural` for the elements of a list. */
function describeSchema(schema: z.ZodType, plural = false): string | undefined {
  const { schema: inner, description } = unwrapDescribed(schema);
  if (description && !plural) return description;
  const def = defOf(inner);
  switch (def.type) {
    case 'string': return plural ? 'strings' : 'a string';
    case 'number': return isWholeNumber(def) ? (plural ? 'whole numbers' : 'a whole number') : (plural ? 'numbers' : 'a number');
    case 'boolean': return plural ? 'true/false values' : 'true or false';
    case 'object':
    case 'record': return plural ? 'mappings' : 'a mapping';
    case 'array': {
      const element = def.element ? describeSchema(def.element, true) : undefined;
      return `${plural ? 'lists' : 'a list'}${element ? ` of ${element}` : ''}`;
    }
    case 'enum': return `${plural ? 'values, each ' : ''}one of: ${Object.values(def.entries ?? {}).join(', ')}`;
    case 'literal': return (def.values ?? []).map((value) => JSON.stringify(value)).join(' or ');
    case 'union': {
      const options = (def.options ?? []).map((option) => describeSchema(option, plural));
      return options.every((option) => option !== undefined) ? options.join(' or ') : undefined;
    }
    default: return undefined;
  }
}

/** What the schema expects at `path`, or undefined when it cannot say. */
export function expectedAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string | undefined {
  const described = [...new Set(schemasAt(schema, path).map((candidate) => describeSchema(candidate)))];
  return described.length > 0 && described.every((text) => text !== undefined) ? described.join(' or ') : undefined;
}

/** What was written, without echoing text: "a string", "5", "true", "a list", "a mapping", "an empty value". */
export function describeInput(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': return 'a string';
    case 'number':
    case 'boolean': return String(value);
    case 'object': return 'a mapping';
    default: return typeof value;
  }
}
