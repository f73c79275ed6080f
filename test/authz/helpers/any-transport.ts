/**
 * One request through any of the filter's transports (gRPC ext_authz, Envoy HTTP, nginx, Traefik),
 * with one outcome shape, so a rule's test runs unchanged over all four. A gRPC request can carry the
 * peer certificate as Envoy's include_peer_certificate sends it (attributes.source.certificate).
 */
import type { FilterFixture } from './filter-fixture.js';
import { ExtAuthzClient, checkRequest, outcomeOf, type EnvoyRequest } from './grpc-client.js';
import { httpCheck, type HttpMode } from './http-client.js';

export type Transport = 'grpc' | HttpMode;
export const TRANSPORTS: readonly Transport[] = ['grpc', 'envoy-http', 'nginx', 'traefik'];

export interface AnyRequest extends EnvoyRequest {
  /** gRPC only: attributes.source.certificate (URL-encoded PEM). */
  peerCertificate?: string;
}

export interface AnyOutcome {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Upstream headers the filter asked the proxy to remove on allow (gRPC headers_to_remove, Envoy HTTP x-envoy-auth-headers-to-remove). */
  removed: string[];
}

/** A gRPC client per fixture, closed with it. */
const clients = new WeakMap<FilterFixture, ExtAuthzClient>();

export function grpcClientOf(fixture: FilterFixture): ExtAuthzClient {
  let client = clients.get(fixture);
  if (!client) clients.set(fixture, (client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`)));
  return client;
}

export function closeGrpcClient(fixture: FilterFixture): void {
  clients.get(fixture)?.close();
  clients.delete(fixture);
}

export async function checkVia(transport: Transport, fixture: FilterFixture, request: AnyRequest): Promise<AnyOutcome> {
  if (transport === 'grpc') {
    const message = checkRequest(request) as { attributes: { source: Record<string, unknown> } };
    if (request.peerCertificate !== undefined) message.attributes.source.certificate = request.peerCertificate;
    const outcome = outcomeOf(await grpcClientOf(fixture).check(message));
    return { status: outcome.status, headers: outcome.headers, body: outcome.body, removed: outcome.removed };
  }
  if (request.peerCertificate !== undefined) throw new Error('a peer certificate reaches the HTTP modes only through XFCC');
  const outcome = await httpCheck(fixture.filter.httpPort!, transport, request);
  const removed = outcome.headers['x-envoy-auth-headers-to-remove']?.split(', ') ?? [];
  return { ...outcome, removed };
}

/** The request URL the filter builds htu from for a request sent by checkVia (every transport says http). */
export function requestUrl(request: Pick<EnvoyRequest, 'host' | 'path'>): string {
  return `http://${request.host ?? 'app.example.com'}${request.path ?? '/'}`;
}
