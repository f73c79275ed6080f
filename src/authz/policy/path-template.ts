/**
 * Istio path templates (`/foo/{*}`, `/foo/{**}/bar`?): validation with Istio's rules, and compilation
 * into a segment matcher. `{*}` is exactly one segment; `{**}` zero or more and must be the last operator.
 */

const PCHAR = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

export function isPathTemplate(path: string): boolean {
  return path.includes('{*}') || path.includes('{**}');
}

/** Returns why a template is invalid, or undefined when it is valid. */
export function validatePathTemplate(path: string): string | undefined {
  if (!path.startsWith('/')) return 'a path template must start with "/"';
  const segments = path.slice(1).split('/');
  let sawGlob = false;
  for (const segment of segments) {
    if (segment === '{*}' || segment === '{**}') {
      if (sawGlob) return 'the {**} operator must be the last operator';
      if (segment === '{**}') sawGlob = true;
      continue;
    }
    if (segment.includes('{') || segment.includes('}') || segment.includes('*')) {
      return `segment "${segment}": "*", "{" and "}" are only allowed in a whole-segment {*} or {**} operator`;
    }
    if (segment !== '' && !PCHAR.test(segment)) return `segment "${segment}" has characters outside RFC 3986 pchar`;
  }
  return undefined;
}

/** Compiles a valid template into a predicate over a normalized path (no query). */
export function compilePathTemplate(template: string): (path: string) => boolean {
  const parts = template.slice(1).split('/');
  const globAt = parts.indexOf('{**}');
  const head = globAt === -1 ? parts : parts.slice(0, globAt);
  const tail = globAt === -1 ? [] : parts.slice(globAt + 1);
  const segmentMatches = (pattern: string, segment: string) => (pattern === '{*}' ? segment !== '' : pattern === segment);
  return (path) => {
    if (!path.startsWith('/')) return false;
    const segments = path.slice(1).split('/');
    if (globAt === -1) {
      if (segments.length !== head.length) return false;
      for (let i = 0; i < head.length; i++) if (!segmentMatches(head[i]!, segments[i]!)) return false;
      return true;
    }
    // {**}: the head's segments, then zero or more segments, then the tail's segments.
    if (segments.length < head.length + tail.length) return false;
    for (let i = 0; i < head.length; i++) if (!segmentMatches(head[i]!, segments[i]!)) return false;
    const offset = segments.length - tail.length;
    for (let i = 0; i < tail.length; i++) if (!segmentMatches(tail[i]!, segments[offset + i]!)) return false;
    return true;
  };
}
