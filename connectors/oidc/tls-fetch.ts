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

/** Each entry is a PEM file path or PEM text (Dex accepts both forms). */
export function readRootCAs(entries: readonly string[]): string[] {
  return entries.map((entry) => (entry.includes('-----BEGIN') ? entry : readFileSync(entry, 'utf8')));
}

export function fetchTrusting(ca: string[]): UpstreamFetch {
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const body = options.body === undefined || options.body === null ? undefined : String(options.body);
      const req = send(
        target,
        { method: options.method, headers: options.headers, ca: target.protocol === 'https:' ? ca : undefined, signal: options.signal },
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
