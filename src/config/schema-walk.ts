/**
 * Reads the config schema itself, for messages: which schemas sit at a config path (array indexes step
 * into elements, records into values, unions into each option), with zod's optional/default/prefault/
 * pipe wrappers stripped. "Did you mean" and "expected a list of strings" both start here.
 */
import type { z } from 'zod';

export interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: Array<{ _zod: { def: { check?: string; format?: string } } }>;
}

export function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The innermost schema and the first `.describe()` text met on the way in. */
export function unwrapDescribed(schema: z.ZodType): { schema: z.ZodType; description?: string } {
  let current = schema;
  let description = current.description;
  for (;;) {
    const def = defOf(current);
    const next = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!next) return description === undefined ? { schema: current } : { schema: current, description };
    current = next;
    description ??= current.description;
  }
}

/** Strips optional/default/prefault/pipe/nullable wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  return unwrapDescribed(schema).schema;
}

export function expandUnion(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  return def.type === 'union' && def.options ? def.options.map(unwrap) : [schema];
}

/** The schemas a value at `path` is checked against (wrappers kept, so descriptions can be read). */
export function schemasAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): z.ZodType[] {
  let candidates = [schema];
  for (const step of path) {
    const next: z.ZodType[] = [];
    for (const candidate of candidates.map(unwrap).flatMap(expandUnion)) {
      const def = defOf(candidate);
      if (typeof step === 'number' && def.type === 'array' && def.element) next.push(def.element);
      else if (def.type === 'object' && def.shape && typeof step === 'string' && def.shape[step]) next.push(def.shape[step]);
      else if (def.type === 'record' && def.valueType) next.push(def.valueType);
    }
    candidates = next;
  }
  return candidates;
}
