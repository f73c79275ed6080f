/**
 * The process logger: pino JSON to stdout (or a readable line format), with every place a secret or
 * token could appear redacted, so nothing sensitive reaches a log even by mistake.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import { textDestination } from './text-format.js';

export type { Logger } from 'pino';

/** Paths censored in every log record, whatever the caller passes. */
export const REDACTED_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'clientSecret', '*.clientSecret', 'client_secret', '*.client_secret',
  'token', '*.token', 'access_token', '*.access_token', 'refresh_token', '*.refresh_token', 'id_token', '*.id_token',
  'code', '*.code', 'code_verifier', '*.code_verifier', 'authorization', '*.authorization', 'cookie', '*.cookie',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'SAMLResponse', '*.SAMLResponse',
  'privateKey', '*.privateKey', 'bindPW', '*.bindPW', 'connectorData', '*.connectorData',
];

export interface LoggerOptions {
  level?: string;
  format?: 'json' | 'text';
  /** Extra field paths to drop (logger.excludeFields). */
  excludeFields?: string[];
  destination?: DestinationStream;
  /** With tracing on (Tracing.traceId): the current trace id, written as `traceId` on every line logged inside a span. */
  traceId?: () => string | undefined;
}

const NO_FIELDS = {};

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.IDGATE_LOG_LEVEL ?? 'info';
  const format = options.format ?? 'json';
  const destination = options.destination ?? pino.destination({ fd: 1, sync: false });
  return pino(
    {
      level,
      base: { service: 'idgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_PATHS, ...(options.excludeFields ?? [])], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      ...(options.traceId ? { mixin: traceIdMixin(options.traceId) } : {}),
    },
    format === 'text' ? textDestination(destination) : destination,
  );
}

function traceIdMixin(traceId: () => string | undefined): () => object {
  return () => {
    const id = traceId();
    return id === undefined ? NO_FIELDS : { traceId: id };
  };
}

/** A logger that drops everything: for tests and tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
