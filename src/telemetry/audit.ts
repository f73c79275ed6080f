/**
 * Audit events (logins, token issuance, revocations): one JSON line each, marked `audit: true`, written
 * through the process logger's asynchronous destination so nothing blocks a request.
 */
import type { Logger } from 'pino';

export interface AuditEvent {
  event: string;
  [field: string]: unknown;
}

export interface AuditLog {
  write(event: AuditEvent): void;
}

export function createAuditLog(logger: Logger): AuditLog {
  const child = logger.child({ audit: true });
  return { write: (event) => child.info(event, event.event) };
}

/** Keeps events in memory: for tests that assert what was audited. */
export function memoryAuditLog(): AuditLog & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, write: (event) => void events.push(event) };
}
