/**
 * The HTTP ext_authz listener. Routes: `<envoyPathPrefix>/...` (Envoy HTTP service), `/nginx`
 * (auth_request), `/nginx/signin` (nginx's sign-in answers, passed to the client as they are),
 * `/traefik` (ForwardAuth), `/signin/backchannel_logout` (filter.signIn), `/healthz`. Allow is exactly
 * 200 with identity in response headers; deny is 401 or 403 with a short body, or a sign-in answer
 * (302, a page). Nothing a policy decides is ever a 5xx.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CheckInput, CheckResult } from '../check-input.js';
import { answerCheck, type CheckHandler } from './answer-check.js';
import { checkInputFromHttp, type HttpMode, type HttpModeOptions } from './http-modes.js';
import { MAX_TOKEN_LENGTH } from '../jwt/parse-token.js';
import { BACKCHANNEL_LOGOUT_PATH } from '../signin/backchannel_logout.js';
import { serveBackchannelLogout, type LogoutHandler } from './logout-endpoint.js';

/** nginx's second request for a sign-in step (error_page 401 = @idgate_signin): the answer goes to the client. */
const NGINX_SIGN_IN_PATH = '/nginx/signin';

export interface HttpServerOptions extends HttpModeOptions {
  /** filter.signIn's back-channel logout receiver. */
  backchannelLogout?: LogoutHandler;
}

function modeOf(url: string, envoyPrefix: string): HttpMode | 'healthz' | undefined {
  const path = url.split('?', 1)[0]!;
  if (path === '/nginx' || path.startsWith('/nginx/')) return 'nginx';
  if (path === '/traefik' || path.startsWith('/traefik/')) return 'traefik';
  if (path === '/healthz') return 'healthz';
  if (path === envoyPrefix || path.startsWith(`${envoyPrefix}/`) || envoyPrefix === '/') return 'envoy-http';
  return undefined;
}

function writeResult(res: ServerResponse, input: CheckInput, result: CheckResult): void {
  if (res.headersSent) throw new Error('response already started');
  const headers: Record<string, string | string[]> = { 'content-type': 'text/plain', 'cache-control': 'no-store' };
  const cookies: string[] = [];
  for (const h of result.headers) {
    if (h.name === 'set-cookie') cookies.push(h.value);
    else headers[h.name] = h.value;
  }
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  if (result.decision === 'allow' && input.transport === 'envoy-http' && result.headersToRemove.length > 0) {
    headers['x-envoy-auth-headers-to-remove'] = result.headersToRemove.join(', ');
  }
  const body = result.decision === 'allow' ? '' : result.body;
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(result.status, headers);
  res.end(body);
}

/**
 * /nginx/signin answers the client itself, so an allow there (a session that appeared between nginx's
 * two requests) cannot be an empty 200: the browser is sent to the same URL, which auth_request then allows.
 */
function retry(input: CheckInput): CheckResult {
  const location = `${input.scheme === 'https' ? 'https' : 'http'}://${input.host}${input.path}`;
  return { decision: 'deny', status: 302, reason: 'signin_retry', body: '', headers: [{ name: 'location', value: location }], headersToRemove: [], queryParametersToRemove: [] };
}

export async function startHttpServer(
  address: { host: string; port: number },
  handler: CheckHandler,
  options: HttpServerOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  // Node's default header limit is 16 KiB: leave room for a token past the JWT size limit (60 KiB), so
  // it is refused as a JWT (401, ERR_JWT_TOO_LARGE) as over gRPC, not with a 431 from the parser.
  const server = http.createServer({ maxHeaderSize: 2 * MAX_TOKEN_LENGTH }, (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = process.hrtime.bigint();
    const mode = modeOf(req.url ?? '/', options.envoyPathPrefix);
    try {
      serve(mode, req, res, startedAt);
    } catch (error) {
      handler.failed(mode === 'healthz' || mode === undefined ? 'envoy-http' : mode, 'decode', error);
      res.destroy();
    }
  });
  const serve = (mode: ReturnType<typeof modeOf>, req: IncomingMessage, res: ServerResponse, startedAt: bigint) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === BACKCHANNEL_LOGOUT_PATH && options.backchannelLogout) {
      serveBackchannelLogout(req, res, options.backchannelLogout, (error) => handler.failed('envoy-http', 'check', error));
      return;
    }
    req.resume(); // bodies are never read: drain them
    if (mode === 'healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!mode) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not an ext_authz endpoint: use /nginx, /traefik or the Envoy path prefix\n');
      return;
    }
    const { input, refusal } = checkInputFromHttp(mode, req, options);
    const nginxSignIn = mode === 'nginx' && path === NGINX_SIGN_IN_PATH;
    if (mode === 'nginx' && !nginxSignIn) input.signInDeferred = true;
    const decide: CheckHandler = refusal
      ? { ...handler, check: async () => ({ decision: 'deny', headers: [], headersToRemove: [], queryParametersToRemove: [], ...refusal }) }
      : handler;
    const write = nginxSignIn ? (result: CheckResult) => writeResult(res, input, result.decision === 'allow' ? retry(input) : result) : (result: CheckResult) => writeResult(res, input, result);
    answerCheck(decide, input, startedAt, write, () => res.destroy());
  };
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
