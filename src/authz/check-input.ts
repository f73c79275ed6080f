/**
 * CheckInput: the one request shape every transport (gRPC ext_authz, Envoy HTTP, nginx, Traefik)
 * decodes into, and CheckResult: the decision every transport encodes back.
 */

export type TransportKind = 'grpc' | 'envoy-http' | 'nginx' | 'traefik' | 'explain';

export interface CheckInput {
  transport: TransportKind;
  /** x-request-id when the proxy sent one, else the transport's own id. */
  requestId: string;
  method: string;
  /** :authority / Host as received. */
  host: string;
  /** Request target including the query string, not decoded. */
  path: string;
  scheme: string;
  /** Lower-cased header names; repeated headers joined with ",". */
  headers: Readonly<Record<string, string | undefined>>;
  /** The proxy's direct peer (source.ip): Envoy's source address, or what a trusted HTTP proxy says. */
  sourceIp?: string;
  /** Original client (remote.ip): X-Forwarded-For read from the right with numTrustedProxies (see client-address.ts). */
  remoteIp?: string;
  destinationIp?: string;
  destinationPort?: number;
  /** The peer's mTLS identity as the proxy saw it (URI SAN, e.g. spiffe://td/ns/x/sa/y). */
  peerPrincipal?: string;
  /** The ingress's own identity (attributes.destination.principal), e.g. spiffe://td/ns/shop/sa/web. */
  destinationPrincipal?: string;
  /** TLS SNI (connection.sni). */
  sni?: string;
  /** The client certificate the proxy verified, for certificate-bound tokens (RFC 8705); see peer/xfcc.ts and transport/grpc-messages.ts. */
  peerCertificate?: PeerCertificate;
  /** ext_authz context_extensions: `namespace`, `labels` ("k=v,k2=v2"). */
  contextExtensions?: Readonly<Record<string, string>>;
  /** Destination labels Envoy sent (attributes.destination.labels). */
  destinationLabels?: Readonly<Record<string, string>>;
  /** Dynamic metadata by filter name, flattened to string values (experimental.envoy.filters.*). */
  filterMetadata?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Route metadata by filter name (attributes.route_metadata_context); Istio puts `istio.config` there. */
  routeMetadata?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * The transport cannot carry a sign-in answer to the client (nginx auth_request: only 2xx/401/403):
   * a sign-in step is then only announced (401 + `x-idgate-sign-in`), with no side effect, and the
   * proxy asks again where it can pass the answer on (`/nginx/signin`).
   */
  signInDeferred?: boolean;
}

/**
 * A client certificate as the proxy reports it: URL-encoded PEM (Envoy's attributes.source.certificate
 * and XFCC `Cert=`, nginx's $ssl_client_escaped_cert) or the hex SHA-256 of its DER (XFCC `Hash=`).
 */
export type PeerCertificate = { urlEncodedPem: string } | { sha256Hex: string };

export interface HeaderToSet {
  name: string;
  value: string;
}

export type Decision = 'allow' | 'deny';

export interface CheckResult {
  decision: Decision;
  /**
   * HTTP status the client gets: 200 on allow; 401 or 403 on deny; 400 for a request the filter refuses
   * to interpret (a path it cannot normalize). Browser sign-in (signin/) adds 302 (to the issuer, or
   * back after the callback), and 400, 404 and 503 pages from its endpoints.
   */
  status: 200 | 302 | 400 | 401 | 403 | 404 | 503;
  /** Stable reason code: allowed, no_allow_policies, no_allow_match, denied_by_policy, jwt_invalid, jwt_audience, dpop_proof_invalid, token_binding, mtls_required, invalid_path ... */
  reason: string;
  /** Why the token failed (a JwtError code such as ERR_JWT_EXPIRED, or a BindingError code such as ERR_DPOP_PROOF_REPLAYED), for the audit line. */
  jwtError?: string;
  /** The target workload's namespace the decision was made for (audit). */
  namespace?: string;
  /** The normalized path the decision was made on, when the path was accepted (audit). */
  path?: string;
  /** Deny body (Envoy/Istio wording). */
  body: string;
  /** The policy and rule that decided, `ns/name` and rule index, when one did. */
  policy?: string;
  rule?: number;
  /** Headers for the upstream request on allow; deny headers (WWW-Authenticate; Location and set-cookie, possibly repeated, for sign-in) on deny. */
  headers: HeaderToSet[];
  /** Upstream request headers to remove on allow (the token, spoofed identity headers). */
  headersToRemove: string[];
  /** Query parameters to strip upstream on allow (a token found in ?access_token=, gRPC only). */
  queryParametersToRemove: string[];
  peerPrincipal?: string;
  requestPrincipal?: string;
  /** AUDIT policies that matched (`ns/name`). */
  audit?: string[];
  /** Dry-run (istio.io/dry-run) policies' shadow decision, when any applied. */
  shadow?: { decision: Decision; policy?: string };
}
