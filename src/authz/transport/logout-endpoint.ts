/**
 * The back-channel logout endpoint on the filter's HTTP listener (filter.signIn): the issuer POSTs
 * `logout_token` form-encoded (OpenID Connect Back-Channel Logout 1.0 §2.5). The token authenticates
 * the call, so the caller need not be a trusted proxy; the body is bounded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogoutAnswer } from '../signin/backchannel_logout.js';

const MAX_BODY_BYTES = 64 * 1024;

export type LogoutHandler = (form: URLSearchParams) => Promise<LogoutAnswer>;

export function serveBackchannelLogout(req: IncomingMessage, res: ServerResponse, handle: LogoutHandler, failed: (error: unknown) => void): void {
  const answer = (status: number, body: string, close = false) => {
    if (res.headersSent) return;
    res.writeHead(status, {
      'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)),
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(body);
  };
  if (req.method !== 'POST') {
    req.resume();
    answer(405, JSON.stringify({ error: 'invalid_request', error_description: 'POST the logout_token' }));
    return;
  }
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
    req.resume();
    answer(400, JSON.stringify({ error: 'invalid_request', error_description: 'the body must be application/x-www-form-urlencoded' }));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      answer(413, JSON.stringify({ error: 'invalid_request', error_description: 'the body is too large' }), true);
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return;
    handle(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
      .then((result) => answer(result.status, result.body))
      .catch((error: unknown) => {
        failed(error);
        answer(503, JSON.stringify({ error: 'temporarily_unavailable' }));
      });
  });
}
