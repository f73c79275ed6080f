/**
 * Prometheus metrics of the issuer and admin faces. One registry per process (passed in, so tests get
 * their own); the filter registers its own metrics on the same registry.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface IssuerMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method'>;
  /** Requests whose client closed the connection mid-body: not answered, so not in httpRequests. */
  httpClientAborts: Counter<'route' | 'method'>;
  tokensIssued: Counter<'grant' | 'type'>;
  logins: Counter<'connector' | 'result'>;
}

export function createIssuerMetrics(registry = new Registry(), options: { defaults?: boolean } = {}): IssuerMetrics {
  if (options.defaults) collectDefaultMetrics({ register: registry, prefix: 'idgate_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'idgate_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'idgate_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    httpClientAborts: new Counter({
      name: 'idgate_http_client_aborts_total',
      help: 'Requests the client abandoned mid-body (no answer sent), by route',
      labelNames: ['route', 'method'],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'idgate_tokens_issued_total',
      help: 'Tokens issued by grant type and token type',
      labelNames: ['grant', 'type'],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'idgate_logins_total',
      help: 'Login attempts by connector and result',
      labelNames: ['connector', 'result'],
      registers: [registry],
    }),
  };
}
