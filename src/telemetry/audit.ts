/**
 * The issuer's audit stream: one JSON line per security event (logins, consent, tokens, revocations,
 * admin changes), apart from the process logger, so no log level ever silences it. Lines go through
 * the filter's buffered asynchronous sink (audit-sink.ts) to stdout, a file, or both. Each event
 * carries the request it belongs to (request id, client IP, user agent), set once per request by
 * `auditRequests` and read back through AsyncLocalStorage, so code deep in a grant need not pass it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { BufferedAuditSink, type AuditSink } from './audit-sink.js';

export type AuditOutcome = 'succeeded' | 'refused' | 'ignored';

export interface AuditEvent {
  /** The event type (`login`, `token_issued`...): the line's `type`. */
  event: string;
  outcome: AuditOutcome;
  /** A stable reason code (an RFC error code, a login error code, a revocation reason). */
  reason?: string;
  /** The client the request named, known or not; never its secret. */
  clientId?: string;
  [field: string]: unknown;
}

/** Who sent the request an event belongs to. */
export interface AuditRequest {
  requestId: string;
  clientIp: string;
  userAgent?: string;
  /** Where the event came from when it is not an HTTP request ("sessions-cli", "admin-api"). */
  origin?: string;
  /** Who asked, where it is known: the management API client's certificate subject, the local user of a CLI run. */
  actor?: string;
  /** The request's trace, only when tracing is on (telemetry.tracing). */
  traceId?: string;
}

export interface AuditLog {
  write(event: AuditEvent): void;
  /** Runs `fn` with `request` as the request of every event written inside it. */
  within<T>(request: AuditRequest, fn: () => T): T;
}

export interface AuditStream extends AuditLog {
  /** Resolves once every line written so far is out (and any file closed). */
  end(): Promise<void>;
}

/** The config key `audit`: the issuer's stream (the filter has `filter.audit`). */
export interface AuditStreamConfig {
  stdout: boolean;
  file?: string;
}

/**
 * Field names never written, whatever a caller passes: the values that travel under them are
 * credentials. A reason code is `reason`, never `code`.
 */
const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'password', 'secret', 'clientSecret', 'client_secret', 'token', 'access_token', 'refresh_token', 'id_token',
  'code', 'code_verifier', 'authorization', 'cookie', 'SAMLResponse', 'connectorData',
]);

/** Client-chosen text (client id tried, user agent) is cut at this length. */
const MAX_CLIENT_TEXT = 256;

/** `text` cut to MAX_CLIENT_TEXT characters: a client's free text, bounded. */
export function boundedClientText(text: string | undefined): string | undefined {
  return text === undefined || text.length <= MAX_CLIENT_TEXT ? text : `${text.slice(0, MAX_CLIENT_TEXT)}…`;
}

/** One audit line: time, type, outcome, reason, the request, then the event's own fields. */
export function auditLine(event: AuditEvent, request: AuditRequest | undefined, now: number): string {
  const { event: type, outcome, reason, clientId, ...details } = event;
  const line: Record<string, unknown> = {
    time: new Date(now).toISOString(),
    type,
    outcome,
    reason,
    requestId: request?.requestId,
    clientIp: request?.clientIp,
    userAgent: request?.userAgent,
    origin: request?.origin,
    actor: request?.actor,
    traceId: request?.traceId,
    clientId: boundedClientText(clientId),
  };
  for (const [key, value] of Object.entries(details)) {
    if (!SECRET_FIELDS.has(key) && !(key in line)) line[key] = value;
  }
  return `${JSON.stringify(line)}\n`;
}

/** A stream writing each event as one line to every sink. */
export function createAuditStream(sinks: AuditSink[], now: () => number = Date.now): AuditStream {
  const requests = new AsyncLocalStorage<AuditRequest>();
  return {
    write(event) {
      const line = auditLine(event, requests.getStore(), now());
      for (const sink of sinks) sink.write(line);
    },
    within: (request, fn) => requests.run(request, fn),
    async end() {
      await Promise.all(sinks.map((sink) => sink.end?.()));
    },
  };
}

/** The stream `audit` asks for: stdout (fd 1, or `stdoutSink`), the file, both or neither. */
export function openAuditStream(config: AuditStreamConfig, now?: () => number, stdoutSink?: AuditSink): AuditStream {
  const sinks: AuditSink[] = [];
  if (config.stdout) sinks.push(stdoutSink ?? BufferedAuditSink.open());
  if (config.file) sinks.push(BufferedAuditSink.open(config.file));
  return createAuditStream(sinks, now);
}

/** The request facts of a command-line run: one id for all its events, no network peer. */
export function commandRequest(origin: string, actor?: string): AuditRequest {
  return { requestId: randomUUID(), clientIp: 'local', origin, ...(actor !== undefined ? { actor } : {}) };
}

/**
 * Koa middleware: every audit event written while this request is handled carries its request id
 * (set by requestContext before), client IP (through `clientIp`, the trusted-proxy rule), user agent
 * and, with tracing on, trace id (set by traceRequests before).
 */
export function auditRequests(audit: AuditLog, clientIp: (ctx: Context) => string) {
  return async function scopeAuditEvents(ctx: Context, next: Next): Promise<void> {
    const userAgent = boundedClientText(ctx.get('user-agent') || undefined);
    const request: AuditRequest = { requestId: String(ctx.state.requestId ?? '-'), clientIp: clientIp(ctx), userAgent };
    // Set by traceRequests (http/middleware.ts), only when tracing is on.
    if (typeof ctx.state.traceId === 'string') request.traceId = ctx.state.traceId;
    await audit.within(request, next);
  };
}

/** Keeps events in memory as written: for tests that assert what was audited. */
export function memoryAuditLog(): AuditLog & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, write: (event) => void events.push(event), within: (_request, fn) => fn() };
}
