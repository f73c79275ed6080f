/**
 * Envoy ext_authz v3 CheckRequest (as proto-loader decodes it) -> CheckInput. The response side,
 * CheckResult -> CheckResponse bytes, is check-response-encoding.ts.
 */
import type { CheckInput } from '../check-input.js';
import { certificateOf, trustedXfccElement, type XfccTrust } from '../peer/xfcc.js';
import { clientAddresses } from './client-address.js';

export interface SocketAddress { address?: string; port_value?: number }
/** `certificate`: the URL-encoded PEM of the peer's certificate, only with Envoy's include_peer_certificate. */
export interface Peer { address?: { socket_address?: SocketAddress }; principal?: string; certificate?: string; labels?: Record<string, string> }
/** google.protobuf.Value: protobufjs' built-in well-known types keep camelCase field names even with keepCase. */
export interface StructValue { nullValue?: number; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: Struct; listValue?: { values?: StructValue[] } }
export interface Struct { fields?: Record<string, StructValue> }

/** envoy.config.core.v3.HeaderMap, sent instead of `headers` when Envoy has encode_raw_headers set. */
export interface HeaderMap { headers?: Array<{ key?: string; value?: string; raw_value?: Buffer | Uint8Array }> }

export interface CheckRequestMessage {
  attributes?: {
    source?: Peer;
    destination?: Peer;
    request?: { http?: { id?: string; method?: string; headers?: Record<string, string>; header_map?: HeaderMap; path?: string; host?: string; scheme?: string } };
    context_extensions?: Record<string, string>;
    metadata_context?: { filter_metadata?: Record<string, Struct> };
    route_metadata_context?: { filter_metadata?: Record<string, Struct> };
    tls_session?: { sni?: string };
  };
}

export interface GrpcDecodeOptions {
  /** Istio's numTrustedProxies: X-Forwarded-For hops believed left of the one Envoy appended. */
  numTrustedProxies: number;
  /**
   * When Envoy sends no peer certificate (Istio's gRPC provider does not set include_peer_certificate),
   * the client certificate of a trusted proxy's XFCC, by the same rules as the HTTP modes (peer/xfcc.ts).
   */
  xfcc?: XfccTrust;
}

function structToJs(value: StructValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.numberValue !== undefined) return value.numberValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.structValue) return Object.fromEntries(Object.entries(value.structValue.fields ?? {}).map(([k, v]) => [k, structToJs(v)]));
  if (value.listValue) return (value.listValue.values ?? []).map(structToJs);
  return null;
}

const EMPTY: Record<string, string> = {};

/**
 * header_map as the `headers` map Envoy would have sent: names lower-cased, repeated headers joined
 * with ",", raw bytes read as UTF-8. Envoy sends one form or the other; a header in either counts.
 */
function headersFrom(http: NonNullable<NonNullable<NonNullable<CheckRequestMessage['attributes']>['request']>['http']>): Record<string, string> {
  const map = http.header_map?.headers;
  if (!map || map.length === 0) return http.headers ?? EMPTY;
  const out: Record<string, string> = { ...http.headers };
  for (const { key, value, raw_value: raw } of map) {
    if (!key) continue;
    const name = key.toLowerCase();
    const text = raw && raw.length > 0 ? Buffer.from(raw).toString('utf8') : (value ?? '');
    out[name] = out[name] === undefined ? text : `${out[name]},${text}`;
  }
  return out;
}

function structsToJs(metadata: Record<string, Struct> | undefined): Record<string, Record<string, unknown>> | undefined {
  if (!metadata || Object.keys(metadata).length === 0) return undefined;
  return Object.fromEntries(Object.entries(metadata).map(([filter, struct]) => [filter, structToJs({ structValue: struct }) as Record<string, unknown>]));
}

export function checkInputFromGrpc(message: CheckRequestMessage, options: GrpcDecodeOptions): CheckInput {
  const a = message.attributes ?? {};
  const http = a.request?.http ?? {};
  const headers = headersFrom(http);
  const source = a.source?.address?.socket_address;
  const destination = a.destination?.address?.socket_address;
  const input: CheckInput = {
    transport: 'grpc',
    requestId: headers['x-request-id'] ?? http.id ?? '',
    method: http.method || headers[':method'] || '',
    host: http.host || headers[':authority'] || '',
    // No path at all is refused by the normalization (it does not start with "/"), never taken as "/".
    path: http.path || headers[':path'] || '',
    scheme: http.scheme ?? headers[':scheme'] ?? 'http',
    headers,
  };
  // source.address is Envoy's own connection peer; x-forwarded-for is believed only as far as it ends with it.
  const { sourceIp, remoteIp } = clientAddresses(headers['x-forwarded-for'], source?.address || undefined, options.numTrustedProxies);
  if (sourceIp !== undefined) input.sourceIp = sourceIp;
  if (remoteIp !== undefined) input.remoteIp = remoteIp;
  if (destination?.address) input.destinationIp = destination.address;
  if (destination?.port_value !== undefined) input.destinationPort = destination.port_value;
  if (a.source?.principal) input.peerPrincipal = a.source.principal;
  if (a.source?.certificate) input.peerCertificate = { urlEncodedPem: a.source.certificate };
  else if (options.xfcc && headers['x-forwarded-client-cert'] !== undefined) {
    const element = trustedXfccElement(headers['x-forwarded-client-cert'], options.xfcc);
    const certificate = element && certificateOf(element);
    if (certificate) input.peerCertificate = certificate;
  }
  if (a.destination?.principal) input.destinationPrincipal = a.destination.principal;
  if (a.tls_session?.sni) input.sni = a.tls_session.sni;
  if (a.context_extensions && Object.keys(a.context_extensions).length > 0) input.contextExtensions = a.context_extensions;
  if (a.destination?.labels && Object.keys(a.destination.labels).length > 0) input.destinationLabels = a.destination.labels;
  const metadata = structsToJs(a.metadata_context?.filter_metadata);
  if (metadata) input.filterMetadata = metadata;
  const routeMetadata = structsToJs(a.route_metadata_context?.filter_metadata);
  if (routeMetadata) input.routeMetadata = routeMetadata;
  return input;
}
