/**
 * Reads request bodies for the protocol endpoints and login forms: application/x-www-form-urlencoded
 * (and JSON where an endpoint allows it), size-limited, with duplicate parameters refused as RFC 6749
 * §3.1 requires. Returns plain string maps; never throws anything but a BodyError with a status.
 * A refused body (413, 415) closes the connection after the answer, so a next request on it is not
 * stuck behind the rest of the body; a client gone mid-body is marked on ctx.state and logged at info.
 */
import type { Context } from 'koa';
import type { Logger } from 'pino';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/**
 * The client closed the connection before its body was complete: not our error, and nobody is left to
 * read the answer. A BodyError so every endpoint's error writer already treats it as a client error.
 */
export class ClientAbortError extends BodyError {
  constructor(options?: { cause?: unknown }) {
    super(400, 'the client closed the connection before the request body was complete');
    this.name = 'ClientAbortError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Answers the refusal, then closes: the unread rest of the body must not hold the connection. */
function refuse(ctx: Context, status: 413 | 415, message: string): BodyError {
  ctx.set('Connection', 'close');
  return new BodyError(status, message);
}

const DEFAULT_LIMIT = 64 * 1024;

async function readRaw(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw refuse(ctx, 413, `request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw refuse(ctx, 413, `request body is larger than ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    if (ctx.req.destroyed || (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      ctx.state.clientAborted = true;
      (ctx.state.log as Logger | undefined)?.info({ method: ctx.method, path: ctx.path }, 'client closed the connection mid-body');
      throw new ClientAbortError({ cause: error });
    }
    throw error;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Parameters a request may repeat (RFC 8707 §2 `resource`). Their values are absolute URIs, which
 * cannot contain a space, so the values are kept space-separated in one string, as `scope` is;
 * `listParam` splits them again.
 */
const REPEATABLE: ReadonlySet<string> = new Set(['resource']);

/**
 * Parses a query string or form body; a parameter given twice is an error (RFC 6749 §3.1, §3.2), except
 * a repeatable one, whose values are joined with spaces (a value holding a space is refused).
 */
export function parseParams(text: string | URLSearchParams): Record<string, string> {
  const params = typeof text === 'string' ? new URLSearchParams(text) : text;
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of params) {
    if (REPEATABLE.has(key)) {
      if (value === '' || /\s/.test(value)) throw new BodyError(400, `parameter "${key}" must be an absolute URI (no spaces)`);
      out[key] = key in out ? `${out[key]} ${value}` : value;
      continue;
    }
    if (key in out) throw new BodyError(400, `parameter "${key}" was given more than once`);
    out[key] = value;
  }
  return out;
}

/** The values of a repeatable parameter (REPEATABLE) as parsed by parseParams; [] when absent. */
export function listParam(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(' ');
}

/** The form body of a POST (memoised on ctx.state so middleware and handlers can both read it). */
export async function readForm(ctx: Context, limit = DEFAULT_LIMIT): Promise<Record<string, string>> {
  const cached = (ctx.state as { form?: Record<string, string> }).form;
  if (cached) return cached;
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw refuse(ctx, 415, 'the body must be application/x-www-form-urlencoded');
  }
  const form = parseParams(await readRaw(ctx, limit));
  (ctx.state as { form?: Record<string, string> }).form = form;
  return form;
}

/** The query parameters, with the same duplicate rule. */
export function readQuery(ctx: Context): Record<string, string> {
  return parseParams(new URLSearchParams(ctx.querystring));
}
