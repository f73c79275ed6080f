/**
 * HTTP-mode request reconstruction, one convention per proxy:
 * - Envoy HTTP ext_authz: original method, original path after the configured path_prefix, Host.
 * - nginx auth_request: X-Original-URI (or X-Original-URL) and X-Original-Method.
 * - Traefik ForwardAuth: X-Forwarded-Method, -Proto, -Host, -Uri.
 * Client IP and XFCC are believed only from trusted hops.
 */
import type { IncomingMessage } from 'node:http';
import type { CheckInput, TransportKind } from '../check-input.js';
import { trustedXfccUri } from '../peer/xfcc.js';

export interface HttpModeOptions {
  envoyPathPrefix: string;
  isTrustedProxy: (address: string | undefined) => boolean;
  xfccTrustedBy: ReadonlySet<string>;
}

const OWN_HEADERS = new Set(['x-original-uri', 'x-original-url', 'x-original-method']);

export function flattenHeaders(raw: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || OWN_HEADERS.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function portOf(host: string, scheme: string): number | undefined {
  const match = /:(\d+)$/.exec(host);
  if (match && !host.endsWith(']')) return Number(match[1]);
  return scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
}

/** Builds the CheckInput for one HTTP mode; undefined when the request is not for that mode. */
export function checkInputFromHttp(mode: Exclude<TransportKind, 'grpc' | 'explain'>, req: IncomingMessage, options: HttpModeOptions): CheckInput {
  const raw = req.headers;
  const headers = flattenHeaders(raw);
  const socketAddress = req.socket.remoteAddress?.replace(/^::ffff:/, '');
  const trusted = options.isTrustedProxy(socketAddress);
  const url = req.url ?? '/';
  let method = req.method ?? 'GET';
  let path = url;
  let host = firstValue(raw.host) ?? '';
  let scheme = 'http';
  if (mode === 'envoy-http') {
    path = url.slice(options.envoyPathPrefix.length) || '/';
    if (!path.startsWith('/')) path = `/${path}`;
    scheme = firstValue(raw['x-forwarded-proto']) ?? 'http';
  } else if (mode === 'nginx') {
    method = firstValue(raw['x-original-method']) ?? method;
    const original = firstValue(raw['x-original-url']);
    if (original && URL.canParse(original)) {
      const parsed = new URL(original);
      host = parsed.host;
      scheme = parsed.protocol.slice(0, -1);
      path = `${parsed.pathname}${parsed.search}`;
    }
    path = firstValue(raw['x-original-uri']) ?? (original ? path : '/');
    host = firstValue(raw['x-forwarded-host']) ?? host;
    scheme = firstValue(raw['x-forwarded-proto']) ?? scheme;
  } else {
    method = firstValue(raw['x-forwarded-method']) ?? method;
    scheme = firstValue(raw['x-forwarded-proto']) ?? 'http';
    host = firstValue(raw['x-forwarded-host']) ?? host;
    path = firstValue(raw['x-forwarded-uri']) ?? '/';
  }
  const input: CheckInput = {
    transport: mode,
    requestId: headers['x-request-id'] ?? '',
    method,
    host,
    path,
    scheme,
    headers,
  };
  // flattenHeaders made a fresh object: the pseudo-headers Envoy would send are added in place.
  headers[':authority'] = host;
  headers[':method'] = method;
  headers[':path'] = path;
  const port = portOf(host, scheme);
  if (port !== undefined) input.destinationPort = port;
  if (trusted) {
    const forwarded = headers['x-forwarded-for']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
    const direct = headers['x-real-ip'] ?? forwarded[forwarded.length - 1];
    if (direct) input.sourceIp = direct;
    if (forwarded[0]) input.remoteIp = forwarded[0];
    const peer = trustedXfccUri(headers['x-forwarded-client-cert'], options.xfccTrustedBy);
    if (peer) input.peerPrincipal = peer;
  }
  if (input.sourceIp === undefined && socketAddress) input.sourceIp = socketAddress;
  // Target workload for nginx/Traefik: query parameters of the auth URL, which the proxy config fixes.
  if (mode !== 'envoy-http') {
    const q = url.indexOf('?');
    if (q !== -1) {
      const params = new URLSearchParams(url.slice(q + 1));
      const extensions: Record<string, string> = {};
      for (const key of ['namespace', 'labels']) {
        const value = params.get(key);
        if (value !== null) extensions[key] = value;
      }
      if (Object.keys(extensions).length > 0) input.contextExtensions = extensions;
    }
  }
  return input;
}
