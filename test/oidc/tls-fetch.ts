/**
 * A fetch for oauth4webapi's customFetch (and plain calls) that speaks HTTPS with a client
 * certificate: node:https with the test CA, and the given certificate and key, on a connection of its
 * own each time (no keep-alive), so every request presents exactly the certificate it was made with.
 */
import https from 'node:https';

export interface TlsIdentity {
  cert?: Buffer;
  key?: Buffer;
}

export type TlsFetch = (url: string, init?: { method?: string; headers?: Record<string, string> | Headers; body?: unknown }) => Promise<Response>;

function headerRecord(headers: Record<string, string> | Headers | undefined): Record<string, string> {
  if (!headers) return {};
  return headers instanceof Headers ? Object.fromEntries(headers.entries()) : headers;
}

export function tlsFetch(ca: Buffer, identity: TlsIdentity = {}): TlsFetch {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const body = init.body === undefined ? undefined : String(init.body);
      const request = https.request(url, {
        method: init.method ?? 'GET',
        headers: headerRecord(init.headers),
        ca,
        ...(identity.cert && identity.key ? { cert: identity.cert, key: identity.key } : {}),
        agent: false,
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
          }
          resolve(new Response(response.statusCode === 204 ? null : Buffer.concat(chunks), { status: response.statusCode ?? 500, headers }));
        });
      });
      request.on('error', reject);
      request.end(body);
    });
}
