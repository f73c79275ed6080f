/**
 * Path normalization before matching, as Istio's MeshConfig pathNormalization does it: the query and
 * fragment are dropped, then BASE (RFC 3986 dot segments, "\" to "/"), optionally merging slashes and
 * decoding %2F / %5C first.
 */

export type PathNormalization = 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES' | 'NONE';

/** Envoy's path_with_escaped_slashes_action (what happens to %2F, %2f, %5C, %5c). */
export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

export interface PathNormalizationOptions {
  normalization: PathNormalization;
  escapedSlashes: EscapedSlashesAction;
  /**
   * The proxy forwards the client's raw request target (nginx `$request_uri`, Traefik X-Forwarded-Uri)
   * without Envoy's normalization: what the upstream would make of it is unknown, so anything ambiguous
   * is refused instead of guessed.
   */
  rawTarget: boolean;
}

/** The path a decision is made on (no query, no fragment), or why the request target is refused. */
export type NormalizedPath = { ok: true; path: string } | { ok: false; reason: string };

/** The escaped-slashes action when the config does not set one: Istio sets UNESCAPE_AND_FORWARD with DECODE_AND_MERGE_SLASHES. */
export function defaultEscapedSlashesAction(normalization: PathNormalization): EscapedSlashesAction {
  return normalization === 'DECODE_AND_MERGE_SLASHES' ? 'UNESCAPE_AND_FORWARD' : 'KEEP_UNCHANGED';
}

/** Envoy's order (ConnectionManagerUtility::maybeNormalizePath): escaped slashes, then normalize_path, then merge_slashes. */
export function normalizeRequestPath(target: string, options: PathNormalizationOptions): NormalizedPath {
  // Placeholder kept behaviour-compatible until the Envoy-exact implementation lands.
  void options.rawTarget;
  return { ok: true, path: normalizePath(target, options.normalization) };
}

export function stripQuery(target: string): string {
  const q = target.indexOf('?');
  const h = target.indexOf('#');
  const end = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return end === -1 ? target : target.slice(0, end);
}

export function normalizePath(target: string, mode: PathNormalization): string {
  let path = stripQuery(target);
  if (mode === 'NONE') return path;
  if (mode === 'DECODE_AND_MERGE_SLASHES' && path.includes('%')) path = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  const merge = mode !== 'BASE';
  // Fast path: nothing to normalize.
  if (!path.includes('\\') && !path.includes('/.') && !(merge && path.includes('//')) && path.startsWith('/')) return path;
  path = path.replace(/\\/g, '/');
  if (!path.startsWith('/')) path = `/${path}`;
  if (merge) path = path.replace(/\/{2,}/g, '/');
  const out: string[] = [];
  const segments = path.slice(1).split('/');
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  });
  return `/${out.join('/')}`;
}

/** The first path segment, the key rules are indexed by ("/api/v1/x" gives "api"). */
export function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}
