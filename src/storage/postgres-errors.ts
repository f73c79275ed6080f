/**
 * Which PostgreSQL failures mean "the database cannot be reached" (callers answer 503) as opposed to
 * a bug in a statement. Connection-level failures become StorageUnavailableError with a message that
 * says what was being done; anything else propagates unchanged, so a wrong answer is never invented.
 */
import { StorageUnavailableError } from './storage.js';

/** Socket-level errno codes from node:net / node:dns. */
const NETWORK_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * SQLSTATEs: class 08 (connection exception), 57P01 admin_shutdown (pg_terminate_backend, fast
 * shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up), 57P05 idle session
 * timeout, 53300 too_many_connections.
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1235]|53300)$/;

/**
 * node-postgres raises these without a code: a socket died, the pool could not hand out a client in
 * time, or a statement got no answer within its query timeout.
 */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end|Query read timeout)/;

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_ERRNO.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  return UNAVAILABLE_MESSAGE.test(error.message);
}

/** `during` names the operation, e.g. "get clients/abc" or "connecting". */
export function unavailable(during: string, cause: unknown): StorageUnavailableError {
  const reason = describe(cause);
  return new StorageUnavailableError(`PostgreSQL is unavailable (${during}): ${reason}`, { cause });
}

/** Maps a failed query: connection-level failures to StorageUnavailableError, others unchanged. */
export function mapQueryError(during: string, error: unknown): unknown {
  return isConnectionError(error) ? unavailable(during, error) : error;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const message = error.message || (error instanceof AggregateError ? error.errors.map(describe).join('; ') : '');
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
