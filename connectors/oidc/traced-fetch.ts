/**
 * openid-client's fetch with a span per upstream HTTP call (tracing on): discovery, token, userinfo
 * and JWKS requests each show in the login's trace, and carry its `traceparent` to the upstream. The
 * span names the method, host and path; never the query, a header or a body (they carry codes,
 * secrets and tokens).
 */
import type { Tracing } from '../../src/telemetry/tracing.js';
import { SpanKind, setHttpStatus } from '../../src/telemetry/tracing.js';
import type { UpstreamFetch } from './tls-fetch.js';

const globalFetch: UpstreamFetch = (url, options) => fetch(url, options as RequestInit);

/** `upstream` names the connector type in the span (`idgate.upstream`). */
export function tracedFetch(tracing: Tracing, inner: UpstreamFetch = globalFetch, upstream = 'oidc'): UpstreamFetch {
  return (url, options) => {
    const target = new URL(url);
    return tracing.inSpan(`HTTP ${options.method}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': options.method, 'server.address': target.hostname, 'url.path': target.pathname, 'idgate.upstream': upstream },
    }, async (span) => {
      const headers = { ...options.headers };
      tracing.inject(headers);
      const response = await inner(url, { ...options, headers });
      setHttpStatus(span, response.status);
      return response;
    });
  };
}
