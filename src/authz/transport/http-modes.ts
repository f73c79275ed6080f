/**
 * HTTP-mode request reconstruction, one convention per proxy, each value taken only from a header the
 * proxy itself sets (overwriting whatever the client sent):
 * - Envoy HTTP ext_authz: original method, path after the configured path_prefix, Host, X-Forwarded-Proto.
 * - nginx auth_request: X-Original-Method, X-Original-URL (scheme and host), X-Original-URI (raw path), X-Real-IP.
 * - Traefik ForwardAuth: X-Forwarded-Method, -Proto, -Host, -Uri (trustForwardHeader off).
 * Nothing is believed from a caller outside filter.trustedProxies: such a request is refused.
 */
import type { IncomingMessage } from 'node:http';
import type { CheckInput, TransportKind } from '../check-input.js';
import { certificateOf, peerFromXfccElement, trustedXfccElement, type XfccTrust } from '../peer/xfcc.js';
import { clientAddresses } from './client-address.js';

export type HttpMode = Exclude<TransportKind, 'grpc' | 'explain'>;

export interface HttpModeOptions {
  envoyPathPrefix: string;
  isTrustedProxy: (address: string | undefined) => boolean;
  numTrustedProxies: number;
  xfcc: XfccTrust;
}

/** Why a request cannot be decided at all (it never reaches the policies); written as a deny. */
export interface HttpRefusal {
  status: 400 | 403;
  reason: 'untrusted_proxy' | 'bad_request';
  body: string;
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

/** `$scheme://$http_host$request_uri` split by hand: a URL parser would turn an empty host into the path's first segment. */
const ORIGINAL_URL = /^(https?):\/\/([^/?#]*)(.*)$/i;

interface Reconstructed {
  method: string;
  host: string;
  path: string;
  scheme: string;
  /** The proxy's direct peer when it reports it apart from X-Forwarded-For (nginx X-Real-IP). */
  directPeer?: string;
}

function reconstruct(mode: HttpMode, req: IncomingMessage, envoyPathPrefix: string): Reconstructed | string {
  const raw = req.headers;
  const url = req.url ?? '/';
  if (mode === 'envoy-http') {
    let path = url.slice(envoyPathPrefix === '/' ? 0 : envoyPathPrefix.length) || '/';
    if (!path.startsWith('/')) path = `/${path}`;
    return { method: req.method ?? 'GET', host: firstValue(raw.host) ?? '', path, scheme: firstValue(raw['x-forwarded-proto']) ?? 'http' };
  }
  if (mode === 'nginx') {
    const method = firstValue(raw['x-original-method']);
    const original = firstValue(raw['x-original-url']);
    if (!method) return 'nginx must send X-Original-Method ($request_method)';
    const parsed = original === undefined ? null : ORIGINAL_URL.exec(original);
    if (!parsed) return 'nginx must send X-Original-URL ($scheme://$http_host$request_uri)';
    const realIp = firstValue(raw['x-real-ip']);
    return {
      method,
      scheme: parsed[1]!.toLowerCase(),
      host: parsed[2]!,
      path: firstValue(raw['x-original-uri']) ?? (parsed[3] || '/'),
      ...(realIp ? { directPeer: realIp } : {}),
    };
  }
  const method = firstValue(raw['x-forwarded-method']);
  const path = firstValue(raw['x-forwarded-uri']);
  if (!method || path === undefined) return 'Traefik must send X-Forwarded-Method and X-Forwarded-Uri (ForwardAuth sets them)';
  return { method, path, host: firstValue(raw['x-forwarded-host']) ?? '', scheme: firstValue(raw['x-forwarded-proto']) ?? 'http' };
}

/** Target workload for nginx/Traefik: query parameters of the auth URL, which the proxy config fixes. */
function contextFromQuery(url: string): Record<string, string> | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  const extensions: Record<string, string> = {};
  for (const key of ['namespace', 'labels']) {
    const value = params.get(key);
    if (value !== null) extensions[key] = value;
  }
  return Object.keys(extensions).length > 0 ? extensions : undefined;
}

/** The CheckInput for one HTTP mode, and the refusal when the request cannot be decided. */
export function checkInputFromHttp(mode: HttpMode, req: IncomingMessage, options: HttpModeOptions): { input: CheckInput; refusal?: HttpRefusal } {
  const headers = flattenHeaders(req.headers);
  const socketAddress = req.socket.remoteAddress?.replace(/^::ffff:/, '');
  const input: CheckInput = { transport: mode, requestId: headers['x-request-id'] ?? '', method: req.method ?? 'GET', host: '', path: '/', scheme: 'http', headers };
  if (socketAddress) input.sourceIp = socketAddress;
  if (!options.isTrustedProxy(socketAddress)) {
    return { input, refusal: { status: 403, reason: 'untrusted_proxy', body: 'ext_authz: this listener answers only the proxies in filter.trustedProxies' } };
  }
  const request = reconstruct(mode, req, options.envoyPathPrefix);
  if (typeof request === 'string') return { input, refusal: { status: 400, reason: 'bad_request', body: `ext_authz: ${request}` } };
  input.method = request.method;
  input.host = request.host;
  input.path = request.path;
  input.scheme = request.scheme;
  // flattenHeaders made a fresh object: the pseudo-headers Envoy would send are added in place.
  headers[':authority'] = request.host;
  headers[':method'] = request.method;
  headers[':path'] = request.path;
  const port = portOf(request.host, request.scheme);
  if (port !== undefined) input.destinationPort = port;
  const { sourceIp, remoteIp } = clientAddresses(headers['x-forwarded-for'], request.directPeer, options.numTrustedProxies);
  if (sourceIp !== undefined) input.sourceIp = sourceIp;
  const remote = remoteIp ?? input.sourceIp;
  if (remote !== undefined) input.remoteIp = remote;
  const xfcc = trustedXfccElement(headers['x-forwarded-client-cert'], options.xfcc);
  if (xfcc) {
    const peer = peerFromXfccElement(xfcc);
    if (peer) input.peerPrincipal = peer;
    const certificate = certificateOf(xfcc);
    if (certificate) input.peerCertificate = certificate;
  }
  if (mode !== 'envoy-http') {
    const extensions = contextFromQuery(req.url ?? '/');
    if (extensions) input.contextExtensions = extensions;
  }
  return { input };
}
