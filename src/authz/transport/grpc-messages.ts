/**
 * Envoy ext_authz v3 messages <-> CheckInput / CheckResult. Allow: status 0 and ok_response (identity
 * headers set with append=false, the token in headers_to_remove). Deny: status 16 (401) or 7 (403)
 * and denied_response with the HTTP status, WWW-Authenticate and a short body.
 */
import type { CheckInput, CheckResult } from '../check-input.js';

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

export const GRPC_OK = 0;
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_UNAUTHENTICATED = 16;

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

const APPEND_FALSE = { value: false };
const STATUS_OK = { code: GRPC_OK };
const TEXT_PLAIN = { header: { key: 'content-type', value: 'text/plain' }, append: APPEND_FALSE };

export function checkResponseFromResult(result: CheckResult): Record<string, unknown> {
  if (result.decision === 'allow') {
    const headers = new Array<unknown>(result.headers.length);
    for (let i = 0; i < result.headers.length; i++) headers[i] = { header: { key: result.headers[i]!.name, value: result.headers[i]!.value }, append: APPEND_FALSE };
    const response: Record<string, unknown> = {
      status: STATUS_OK,
      ok_response: { headers, headers_to_remove: result.headersToRemove, query_parameters_to_remove: result.queryParametersToRemove },
    };
    if (result.peerPrincipal || result.requestPrincipal) {
      const fields: Record<string, { stringValue: string }> = {};
      if (result.peerPrincipal) fields.peer_principal = { stringValue: result.peerPrincipal };
      if (result.requestPrincipal) fields.request_principal = { stringValue: result.requestPrincipal };
      response.dynamic_metadata = { fields };
    }
    return response;
  }
  return {
    status: { code: result.status === 401 ? GRPC_UNAUTHENTICATED : GRPC_PERMISSION_DENIED, message: result.reason },
    denied_response: {
      status: { code: result.status },
      headers: [...result.headers.map((h) => ({ header: { key: h.name, value: h.value }, append: { value: false } })), TEXT_PLAIN],
      body: result.body,
    },
  };
}
