/**
 * A fetch for openid-client that trusts only the configured root CAs (Dex `rootCAs`), built on
 * node:https because the global fetch cannot take a CA bundle without an extra dependency.
 * Redirects are not followed (openid-client asks for `redirect: 'manual'`).
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

export type UpstreamFetch = (
  url: string,
  options: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal; redirect?: 'manual' },
) => Promise<Response>;

/** Each entry is PEM text, base64 of PEM text, or a PEM file path (the forms Dex's pkg/httpclient reads). */
export function readRootCAs(entries: readonly string[]): string[] {
  return entries.map((entry) => {
    if (entry.includes('-----BEGIN')) return entry;
    const decoded = /^[A-Za-z0-9+/=\s]+$/.test(entry) ? Buffer.from(entry, 'base64').toString('utf8') : '';
    return decoded.includes('-----BEGIN') ? decoded : readFileSync(entry, 'utf8');
  });
}

/**
 * `ca`: the only CAs trusted for https. `rejectUnauthorized: false` (Dex's `insecureSkipVerify`, which
 * the generic oauth connector honours) accepts any certificate.
 */
export function fetchTrusting(ca: string[], tls: { rejectUnauthorized?: boolean } = {}): UpstreamFetch {
  const verify = tls.rejectUnauthorized ?? true;
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const body = options.body === undefined || options.body === null ? undefined : String(options.body);
      const req = send(
        target,
        {
          method: options.method,
          headers: options.headers,
          ...(target.protocol === 'https:' && { ca: ca.length > 0 ? ca : undefined, rejectUnauthorized: verify }),
          signal: options.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value === undefined) continue;
              for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
            }
            const status = res.statusCode ?? 502;
            const noBody = status === 204 || status === 304;
            resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers }));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}
