/**
 * Go-style durations ("10m", "1h30m", "720h", "500ms"), as Dex's config uses them, to milliseconds.
 */
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return total;
}

/** Go's longest time.Duration (2^63-1 ns, about 292 years); Dex refuses anything longer, and so do we. */
export const MAX_DURATION_MS = 9_223_372_036_854.775;

/** Why `ms` is out of range, or undefined; `positive` refuses zero (a lifetime of 0 makes everything expire at once). */
export function durationRangeProblem(text: string, ms: number, positive: boolean): string | undefined {
  if (ms > MAX_DURATION_MS) return `"${text}" is too long (at most 2562047h)`;
  if (positive && ms === 0) return `"${text}" must be longer than 0`;
  return undefined;
}

/**
 * A zod field for a duration string; the parsed value is milliseconds. `positive` refuses 0, for
 * lifetimes and periods where 0 would make everything expire at once or spin a timer.
 */
export function duration(defaultValue: string, options: { positive?: boolean } = {}) {
  return durationText().default(defaultValue).transform(toMilliseconds(options.positive ?? false));
}

/** As `duration`, without a default: absent stays undefined (the consumer has its own default). */
export function optionalDuration(options: { positive?: boolean } = {}) {
  return durationText().transform(toMilliseconds(options.positive ?? false)).optional();
}

/** A duration is written as a string; a bare number (`idTokens: 5`) gets this in its type error. */
function durationText() {
  return z.string().describe('a duration such as "24h" or "10m"');
}

function toMilliseconds(positive: boolean) {
  return (text: string, ctx: z.RefinementCtx): number => {
    const ms = parseDuration(text);
    const problem = ms === undefined
      ? `"${text}" is not a duration (use e.g. "10m", "24h", "1h30m")`
      : durationRangeProblem(text, ms, positive);
    if (problem || ms === undefined) {
      ctx.addIssue({ code: 'custom', message: problem ?? 'not a duration' });
      return z.NEVER;
    }
    return ms;
  };
}
