/**
 * Path normalization before matching, as Istio's MeshConfig pathNormalization does it: the query and
 * fragment are dropped, then BASE (RFC 3986 dot segments, "\" to "/"), optionally merging slashes and
 * decoding %2F / %5C first.
 */

export type PathNormalization = 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES' | 'NONE';

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
