/**
 * Envoy ext_authz v3 CheckRequest (as proto-loader decodes it) -> CheckInput. The response side,
 * CheckResult -> CheckResponse bytes, is check-response-encoding.ts.
 */
import type { CheckInput } from '../check-input.js';

interface SocketAddress { address?: string; port_value?: number }
interface Peer { address?: { socket_address?: SocketAddress }; principal?: string; labels?: Record<string, string> }
/** google.protobuf.Value: protobufjs' built-in well-known types keep camelCase field names even with keepCase. */
interface StructValue { nullValue?: number; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: Struct; listValue?: { values?: StructValue[] } }
interface Struct { fields?: Record<string, StructValue> }

export interface CheckRequestMessage {
  attributes?: {
    source?: Peer;
    destination?: Peer;
    request?: { http?: { id?: string; method?: string; headers?: Record<string, string>; path?: string; host?: string; scheme?: string } };
    context_extensions?: Record<string, string>;
    metadata_context?: { filter_metadata?: Record<string, Struct> };
    tls_session?: { sni?: string };
  };
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

export function checkInputFromGrpc(message: CheckRequestMessage): CheckInput {
  const a = message.attributes ?? {};
  const http = a.request?.http ?? {};
  const headers = http.headers ?? EMPTY;
  const source = a.source?.address?.socket_address;
  const destination = a.destination?.address?.socket_address;
  const input: CheckInput = {
    transport: 'grpc',
    requestId: headers['x-request-id'] ?? http.id ?? '',
    method: http.method ?? headers[':method'] ?? '',
    host: http.host ?? headers[':authority'] ?? '',
    path: http.path ?? headers[':path'] ?? '/',
    scheme: http.scheme ?? headers[':scheme'] ?? 'http',
    headers,
  };
  if (source?.address) input.sourceIp = source.address;
  if (destination?.address) input.destinationIp = destination.address;
  if (destination?.port_value !== undefined) input.destinationPort = destination.port_value;
  if (a.source?.principal) input.peerPrincipal = a.source.principal;
  if (a.tls_session?.sni) input.sni = a.tls_session.sni;
  if (a.context_extensions && Object.keys(a.context_extensions).length > 0) input.contextExtensions = a.context_extensions;
  if (a.destination?.labels && Object.keys(a.destination.labels).length > 0) input.destinationLabels = a.destination.labels;
  const metadata = a.metadata_context?.filter_metadata;
  if (metadata && Object.keys(metadata).length > 0) {
    input.filterMetadata = Object.fromEntries(
      Object.entries(metadata).map(([filter, struct]) => [filter, structToJs({ structValue: struct }) as Record<string, unknown>]),
    );
  }
  return input;
}
