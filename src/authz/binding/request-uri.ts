/**
 * The DPoP `htu` check (RFC 9449 §4.3 item 9): the proof's URI must be the request's, ignoring the
 * query and the fragment. The request's URI is what the trust model believes: the scheme and host the
 * proxy reports and the normalized path the decision is made on. The proof's URI gets the same
 * syntax- and scheme-based normalization (RFC 3986 §6.2.2, §6.2.3, as RFC 9449 advises): scheme and
 * host lower-cased, the default port dropped, and the path normalized with the filter's own path
 * normalization, so `/a/./b` and `/a/%62` in a proof match the path the decision was made on.
 */
import { normalizeRequestPath, type PathNormalizationOptions } from '../policy/normalize-path.js';

const DEFAULT_PORT: Readonly<Record<string, string>> = { http: ':80', https: ':443' };

/** `scheme://authority` then the path; a query or fragment ends the path. */
const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/;

/** `scheme://host` as compared: both lower-case, without the scheme's default port. */
export function requestOrigin(scheme: string, host: string): string {
  const s = scheme.toLowerCase();
  let h = host.toLowerCase();
  const port = DEFAULT_PORT[s];
  if (port !== undefined && h.endsWith(port)) h = h.slice(0, -port.length);
  return `${s}://${h}`;
}

/** Whether `htu` names the request at `origin` (requestOrigin) and normalized `path`. */
export function htuMatches(htu: string, origin: string, path: string, paths: PathNormalizationOptions): boolean {
  const parts = ABSOLUTE_URI.exec(htu);
  if (!parts) return false;
  if (requestOrigin(parts[1]!, parts[2]!) !== origin) return false;
  const normalized = normalizeRequestPath(parts[3] || '/', paths);
  return normalized.ok && normalized.path === path;
}
