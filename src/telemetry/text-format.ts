/**
 * `logger.format: text`: turns pino's JSON lines into one readable line each
 * (`2026-11-23T08:00:00.000Z INFO  issuer listening url=http://127.0.0.1:5556`), for people reading a
 * terminal. Redaction has already happened in pino, so this only reshapes what is safe to print.
 */
import type { DestinationStream } from 'pino';

const OMITTED = new Set(['time', 'level', 'msg', 'service']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function formatTextLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const fields = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  const level = String(record.level ?? 'info').toUpperCase().padEnd(5);
  return `${String(record.time ?? '')} ${level} ${String(record.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination that writes text lines to `target`. */
export function textDestination(target: DestinationStream): DestinationStream {
  return { write: (line: string) => void target.write(formatTextLine(line)) };
}
