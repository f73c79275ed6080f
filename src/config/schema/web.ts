/**
 * The `web` section: the issuer's HTTP and HTTPS listeners, their TLS, CORS and response headers,
 * who may tell us the client's address, and where clients' certificates come from (RFC 8705).
 */
import { z } from 'zod';
import { filterConfigSchema } from '../../authz/config.js';
import { parseBlock } from '../../authz/policy/ip-match.js';
import { frontendSchema } from './frontend.js';
import { listenAddress, tlsVersion } from './listener.js';
import { absoluteURL } from './url.js';

/** Dex's web.headers: a fixed set of response headers (cmd/dex/config.go Headers), each optional. */
const webHeadersSchema = z.strictObject({
  'Content-Security-Policy': z.string().optional(),
  'X-Frame-Options': z.string().optional(),
  'X-Content-Type-Options': z.string().optional(),
  'X-XSS-Protection': z.string().optional(),
  'Strict-Transport-Security': z.string().optional(),
});

export const webSchema = z.strictObject({
  http: listenAddress.optional(),
  https: listenAddress.optional(),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  tlsMinVersion: tlsVersion.optional(),
  tlsMaxVersion: tlsVersion.optional(),
  allowedOrigins: z.array(z.string()).default([]),
  allowedHeaders: z.array(z.string()).default([]),
  headers: webHeadersSchema.optional(),
  clientRemoteIP: z
    .strictObject({
      header: z.string().optional(),
      trustedProxies: z
        .array(z.string().refine((entry) => parseBlock(entry) !== undefined, { message: 'not an IP address or CIDR block (e.g. 10.0.0.0/8)' }))
        .default([]),
    })
    .optional(),
  /**
   * Our own (grpc.tlsClientCA's name): a PEM bundle of the CAs that issue clients' certificates (RFC
   * 8705 tls_client_auth). The HTTPS listener then asks for a client certificate without requiring one.
   */
  tlsClientCA: z.string().min(1).optional(),
  /**
   * Our own: the client certificate a TLS-terminating proxy forwards, believed only from
   * clientRemoteIP.trustedProxies: Envoy's x-forwarded-client-cert (the filter's xfcc rules) or
   * the header nginx sets to $ssl_client_escaped_cert (docs/sender-constrained.md).
   */
  clientCertificate: z
    .strictObject({
      xfcc: filterConfigSchema.shape.xfcc,
      header: z.string().regex(/^[A-Za-z0-9-]+$/, { message: 'not an HTTP header name' }).optional(),
    })
    .optional(),
  /** Our own (RFC 8705 §5 mtls_endpoint_aliases): the issuer URL as clients reach the mTLS listener, when that is another host. */
  mtlsURL: absoluteURL.optional(),
  frontend: frontendSchema.optional(),
});
