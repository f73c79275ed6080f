/**
 * For the real-proxy tests (nginx, Caddy): the proxy configuration exactly as an integration guide
 * prints it, with only its addresses replaced, and a raw HTTP client that sends a request target as
 * written (fetch would resolve "%2e%2e" before the proxy sees it).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';

/** The one ```<language> block of docs/integrations/<page>. */
export async function guideBlock(page: string, language: string): Promise<string> {
  const text = await readFile(new URL(`../../../docs/integrations/${page}`, import.meta.url), 'utf8');
  const block = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1];
  if (!block) throw new Error(`docs/integrations/${page} has no \`\`\`${language} block`);
  return block;
}

/** The ```<language> block of docs/integrations/<page> whose first line is `marker` (a page with several). */
export async function guideBlockMarked(page: string, language: string, marker: string): Promise<string> {
  const text = await readFile(new URL(`../../../docs/integrations/${page}`, import.meta.url), 'utf8');
  const block = [...text.matchAll(new RegExp(`\`\`\`${language}\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!).find((b) => b.startsWith(`${marker}\n`));
  if (!block) throw new Error(`docs/integrations/${page} has no \`\`\`${language} block starting with "${marker}"`);
  return block;
}

/** The block with each `from` replaced by its `to` (and nothing else); a missing `from` means the guide changed. */
export function substitute(block: string, substitutions: ReadonlyArray<[from: string, to: string]>): string {
  let config = block;
  for (const [from, to] of substitutions) {
    if (!config.includes(from)) throw new Error(`the guide's configuration no longer contains "${from}": update this test`);
    config = config.replace(from, to);
  }
  return config;
}

export interface RawResponse {
  status: number | undefined;
  wwwAuthenticate: string | undefined;
  body: string;
}

/** One request to 127.0.0.1:port with the path sent exactly as given. */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, wwwAuthenticate: res.headers['www-authenticate'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}
