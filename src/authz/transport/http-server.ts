/**
 * The HTTP ext_authz listener. Routes: `<envoyPathPrefix>/...` (Envoy HTTP service), `/nginx`
 * (auth_request), `/traefik` (ForwardAuth), `/healthz`. Allow is exactly 200 with identity in response
 * headers; deny is 401 or 403 with a short body. Nothing a policy decides is ever a 5xx.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { CheckInput, CheckResult, TransportKind } from '../check-input.js';
import { internalErrorResult, type CheckHandler } from './grpc-server.js';
import { checkInputFromHttp, type HttpModeOptions } from './http-modes.js';

function modeOf(url: string, envoyPrefix: string): Exclude<TransportKind, 'grpc' | 'explain'> | 'healthz' | undefined {
  const path = url.split('?', 1)[0]!;
  if (path === '/nginx' || path.startsWith('/nginx/')) return 'nginx';
  if (path === '/traefik' || path.startsWith('/traefik/')) return 'traefik';
  if (path === '/healthz') return 'healthz';
  if (path === envoyPrefix || path.startsWith(`${envoyPrefix}/`) || envoyPrefix === '/') return 'envoy-http';
  return undefined;
}

function writeResult(res: ServerResponse, input: CheckInput, result: CheckResult): void {
  const headers: Record<string, string> = { 'content-type': 'text/plain', 'cache-control': 'no-store' };
  for (const h of result.headers) headers[h.name] = h.value;
  if (result.decision === 'allow' && input.transport === 'envoy-http' && result.headersToRemove.length > 0) {
    headers['x-envoy-auth-headers-to-remove'] = result.headersToRemove.join(', ');
  }
  const body = result.decision === 'allow' ? '' : result.body;
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(result.status, headers);
  res.end(body);
}

export async function startHttpServer(
  address: { host: string; port: number },
  handler: CheckHandler,
  options: HttpModeOptions,
  logger: Logger,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const startedAt = process.hrtime.bigint();
    const mode = modeOf(req.url ?? '/', options.envoyPathPrefix);
    req.resume(); // bodies are never read: drain them
    if (mode === 'healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!mode) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not an ext_authz endpoint: use /nginx, /traefik or the Envoy path prefix\n');
      return;
    }
    const input = checkInputFromHttp(mode, req, options);
    handler.check(input).then(
      (result) => {
        writeResult(res, input, result);
        handler.record(input, result, startedAt);
      },
      (error: unknown) => {
        logger.error({ err: error, requestId: input.requestId }, 'check failed');
        const result = internalErrorResult();
        writeResult(res, input, result);
        handler.record(input, result, startedAt);
      },
    );
  });
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
