/**
 * Istio path templates (`/foo/{*}`, `/foo/{**}/bar`): validation with Istio's rules, and compilation
 * into the matcher Envoy's uri_template builds from them (Istio turns `{*}` into `*`, `{**}` into `**`).
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

/** Envoy's uri_template character classes: a literal character (RFC 3986 pchar without "*"), and "/" for {**}. */
const LITERAL_CLASS = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const ONE_SEGMENT = `[${LITERAL_CLASS}]+`;
const ANY_SEGMENTS = `[${LITERAL_CLASS}/]*`;

/**
 * Compiles a valid template into a predicate over a normalized path (no query), as Envoy's
 * uri_template matches: the template's segments joined by "/" into one anchored expression, `{*}` one
 * or more literal characters, `{**}` any run of literal characters and "/". So the "/" before `{**}`
 * is required: `/x/{**}` matches `/x/` and `/x/a/b`, not `/x`; `/foo/{**}/bar` needs at least `/foo//bar`.
 */
export function compilePathTemplate(template: string): (path: string) => boolean {
  const parts = template
    .slice(1)
    .split('/')
    .map((part) => (part === '{*}' ? ONE_SEGMENT : part === '{**}' ? ANY_SEGMENTS : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const expression = new RegExp(`^/${parts.join('/')}$`);
  return (path) => expression.test(path);
}
