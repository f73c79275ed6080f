/**
 * Sends a decision-table request the way each proxy would: Envoy HTTP ext_authz (original method,
 * path after the prefix), nginx auth_request (GET with X-Original-*), Traefik ForwardAuth (GET with
 * X-Forwarded-*). Uses node:http so the Host header can be set.
 */
import http from 'node:http';
import type { EnvoyRequest } from './grpc-client.js';

export type HttpMode = 'envoy-http' | 'nginx' | 'traefik';

export interface HttpOutcome {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function httpCheck(port: number, mode: HttpMode, r: EnvoyRequest): Promise<HttpOutcome> {
  const method = r.method ?? 'GET';
  const path = r.path ?? '/';
  const host = r.host ?? 'app.example.com';
  const headers: Record<string, string> = { ...(r.headers ?? {}), 'x-request-id': r.requestId ?? 'req-http' };
  if (r.sourceIp) headers['x-forwarded-for'] = r.sourceIp;
  const query = new URLSearchParams();
  if (r.namespace) query.set('namespace', r.namespace);
  if (r.labels !== undefined) query.set('labels', r.labels);
  const suffix = query.size > 0 ? `?${query}` : '';
  let requestMethod = 'GET';
  let requestPath: string;
  if (mode === 'envoy-http') {
    requestMethod = method;
    requestPath = `/envoy${path}`;
    headers.host = host;
  } else if (mode === 'nginx') {
    requestPath = `/nginx${suffix}`;
    headers.host = 'idgate.internal';
    headers['x-original-url'] = `http://${host}${path}`;
    headers['x-original-uri'] = path;
    headers['x-original-method'] = method;
  } else {
    requestPath = `/traefik${suffix}`;
    headers.host = 'idgate.internal';
    Object.assign(headers, { 'x-forwarded-method': method, 'x-forwarded-proto': 'http', 'x-forwarded-host': host, 'x-forwarded-uri': path });
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: requestMethod, path: requestPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
