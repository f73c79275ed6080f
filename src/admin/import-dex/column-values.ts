/**
 * Dex's column encodings, as its storage/sql code writes them through Go's drivers, decoded to plain
 * values: `bytea`/`blob` columns of JSON (Go's json.Marshal, `null` for a nil slice), booleans (a
 * PostgreSQL boolean, an SQLite integer 0/1), and times (a PostgreSQL timestamptz; on SQLite the text
 * mattn/go-sqlite3 writes, `2006-01-02 15:04:05.999999999-07:00`, in UTC; Go's zero time for "never
 * set"). A value that does not decode names its table, row and column.
 */
import { DexImportError } from './source.js';

/** Where a value came from, for messages: `refresh_token abc.created_at`. */
export interface Place {
  table: string;
  id: string;
  column: string;
}

function malformed(place: Place, what: string): DexImportError {
  return new DexImportError('not_dex', `${place.table} ${place.id}: column ${place.column} is not ${what} as Dex writes it`);
}

export function textValue(value: unknown, place: Place): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw malformed(place, 'text');
}

export function bytesValue(value: unknown, place: Place): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value;
  // SQLite keeps a column default such as '[]' as text even in a blob column.
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw malformed(place, 'bytes');
}

export function boolValue(value: unknown, place: Place): boolean | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1 || value === 0n || value === 1n) return Number(value) === 1;
  throw malformed(place, 'a boolean');
}

/** JSON in a bytes column; undefined for SQL NULL, empty bytes, or Go's `null`. */
export function jsonValue(value: unknown, place: Place): unknown {
  const bytes = bytesValue(value, place);
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) ?? undefined;
  } catch {
    throw malformed(place, 'JSON');
  }
}

export function stringListValue(value: unknown, place: Place): string[] | undefined {
  const list = jsonValue(value, place);
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw malformed(place, 'a JSON list of strings');
  return list;
}

const GO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?: ?(Z|UTC|[+-]\d{2}:?\d{2}))?$/;

/** Epoch ms of a time as Go writes it (RFC 3339 in JSON, go-sqlite3's text); undefined for Go's zero time. */
export function parseGoTime(text: string): number | undefined | null {
  const match = GO_TIME.exec(text.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  if (Number(year) <= 1) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0').slice(0, 3)));
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  return date.getTime() - offsetMinutes * 60_000;
}

/** A time column; undefined for NULL or Go's zero time (`0001-01-01 00:00:00 UTC`, Dex's column default). */
export function timeValue(value: unknown, place: Place): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw malformed(place, 'a time');
    return value.getUTCFullYear() <= 1 ? undefined : value.getTime();
  }
  if (typeof value === 'string') {
    const parsed = parseGoTime(value);
    if (parsed === null) throw malformed(place, 'a time');
    return parsed;
  }
  throw malformed(place, 'a time');
}
