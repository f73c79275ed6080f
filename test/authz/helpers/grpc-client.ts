/**
 * A grpc-js ext_authz client built from the repo's protos (the same files Envoy's messages are
 * vendored in), and a builder for CheckRequest messages shaped like Envoy's.
 */
import { credentials, type Client } from '@grpc/grpc-js';
import { loadAuthorizationProto } from '../../../src/authz/transport/proto.js';

export interface EnvoyRequest {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  peer?: string;
  sourceIp?: string;
  destinationIp?: string;
  port?: number;
  sni?: string;
  namespace?: string;
  labels?: string;
  requestId?: string;
}

export interface CheckResponseMessage {
  status?: { code?: number; message?: string };
  ok_response?: { headers?: Array<{ header: { key: string; value: string }; append?: { value: boolean } }>; headers_to_remove?: string[]; query_parameters_to_remove?: string[] };
  denied_response?: { status?: { code?: number }; headers?: Array<{ header: { key: string; value: string } }>; body?: string };
  dynamic_metadata?: { fields?: Record<string, { stringValue?: string }> };
}

export function checkRequest(r: EnvoyRequest): Record<string, unknown> {
  const method = r.method ?? 'GET';
  const path = r.path ?? '/';
  const host = r.host ?? 'app.example.com';
  const headers = { ':method': method, ':path': path, ':authority': host, ':scheme': 'http', 'x-request-id': r.requestId ?? 'req-1', ...(r.headers ?? {}) };
  const extensions: Record<string, string> = {};
  if (r.namespace) extensions.namespace = r.namespace;
  if (r.labels !== undefined) extensions.labels = r.labels;
  return {
    attributes: {
      source: { address: { socket_address: { address: r.sourceIp ?? '10.10.0.5', port_value: 51000 } }, ...(r.peer ? { principal: r.peer } : {}) },
      destination: { address: { socket_address: { address: r.destinationIp ?? '10.20.0.9', port_value: r.port ?? 8080 } } },
      request: { http: { id: '42', method, path, host, scheme: 'http', headers, protocol: 'HTTP/1.1' } },
      context_extensions: extensions,
      ...(r.sni ? { tls_session: { sni: r.sni } } : {}),
    },
  };
}

export class ExtAuthzClient {
  private readonly client: Client & { Check: (req: unknown, cb: (err: Error | null, res: CheckResponseMessage) => void) => void };

  constructor(address: string) {
    const { Client: Ctor } = loadAuthorizationProto();
    this.client = new Ctor(address, credentials.createInsecure()) as unknown as ExtAuthzClient['client'];
  }

  check(request: EnvoyRequest | Record<string, unknown>): Promise<CheckResponseMessage> {
    const message = 'attributes' in request ? request : checkRequest(request as EnvoyRequest);
    return new Promise((resolve, reject) => this.client.Check(message, (error, response) => (error ? reject(error) : resolve(response))));
  }

  close(): void {
    this.client.close();
  }
}

/** The HTTP status the client would get and the upstream headers, from a CheckResponse. */
export function outcomeOf(response: CheckResponseMessage): { status: number; grpcCode: number; headers: Record<string, string>; removed: string[]; body: string } {
  const grpcCode = response.status?.code ?? 0;
  if (grpcCode === 0) {
    const headers = Object.fromEntries((response.ok_response?.headers ?? []).map((h) => [h.header.key, h.header.value]));
    return { status: 200, grpcCode, headers, removed: response.ok_response?.headers_to_remove ?? [], body: '' };
  }
  const headers = Object.fromEntries((response.denied_response?.headers ?? []).map((h) => [h.header.key, h.header.value]));
  return { status: response.denied_response?.status?.code || 403, grpcCode, headers, removed: [], body: response.denied_response?.body ?? '' };
}
