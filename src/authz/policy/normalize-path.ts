/**
 * The path a decision is made on, computed as Envoy's HTTP connection manager computes the path it
 * forwards (ConnectionManagerUtility::maybeNormalizePath): fragment refused, escaped slashes handled,
 * then `normalize_path` (Chromium's URL path canonicalizer), then `merge_slashes`. What cannot be
 * interpreted the way the upstream will interpret it is refused (400 `invalid_path`), never guessed.
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
   * is refused instead of guessed. A raw target arrives in an HTTP header, which Node reads as latin1:
   * each character is one byte of the client's target, and a non-ASCII byte is escaped as that byte.
   */
  rawTarget: boolean;
}

/** The path a decision is made on (no query, no fragment), or why the request target is refused. */
export type NormalizedPath = { ok: true; path: string } | { ok: false; reason: string };

/** The escaped-slashes action when the config does not set one: Istio sets UNESCAPE_AND_FORWARD with DECODE_AND_MERGE_SLASHES. */
export function defaultEscapedSlashesAction(normalization: PathNormalization): EscapedSlashesAction {
  return normalization === 'DECODE_AND_MERGE_SLASHES' ? 'UNESCAPE_AND_FORWARD' : 'KEEP_UNCHANGED';
}

/** Characters Chromium's canonicalizer copies unchanged (unreserved, sub-delims, ":", "@", "[", "]", "/"), none of them "%" or "\". */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@[\]/]*$/;
const ESCAPED_SLASH = /%2f|%5c/i;
const ESCAPED_SLASH_ALL = /%2f|%5c/gi;
const ESCAPED_DOT = /%2e/i;
const ESCAPED_DOT_ALL = /%2e/gi;
const ANY_SLASH = /[/\\]/;
const HEX = '0123456789ABCDEF';

/** Chromium's kPathCharLookup for ASCII, reduced to what matters here: 1 = decode when escaped (unreserved), 2 = escape when raw. */
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-_~]/.test(ch)) CHAR_CLASS[c] = 1;
  else if (c <= 0x20 || c === 0x7f || '"#<>?^`{|}%'.includes(ch)) CHAR_CLASS[c] = 2;
}

const ok = (path: string): NormalizedPath => ({ ok: true, path });
const refuse = (reason: string): NormalizedPath => ({ ok: false, reason });

/** Envoy's order (ConnectionManagerUtility::maybeNormalizePath): escaped slashes, then normalize_path, then merge_slashes. */
export function normalizeRequestPath(target: string, options: PathNormalizationOptions): NormalizedPath {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  // Envoy rejects a ":path" with "#" anywhere (http_reject_path_with_fragment, on by default).
  if (target.includes('#')) return refuse('the request target has a fragment ("#")');
  // The fast path: nothing here that any step would change or refuse.
  if (PLAIN_PATH.test(path) && !(options.rawTarget && path.includes('//'))) {
    if (options.normalization === 'NONE') return options.rawTarget && hasDotSegment(path) ? refuse(RAW_DOT_SEGMENT) : ok(path);
    if (!path.includes('/.') && !(mergesSlashes(options.normalization) && path.includes('//'))) return ok(path);
  }
  return normalizeSlowly(path, options);
}

const RAW_DOT_SEGMENT = 'a dot segment in a raw request target with pathNormalization NONE is ambiguous';
const RAW_EMPTY_SEGMENT = 'an empty segment ("//") in a raw request target is ambiguous unless pathNormalization merges slashes (MERGE_SLASHES)';

function mergesSlashes(normalization: PathNormalization): boolean {
  return normalization === 'MERGE_SLASHES' || normalization === 'DECODE_AND_MERGE_SLASHES';
}

function normalizeSlowly(original: string, options: PathNormalizationOptions): NormalizedPath {
  let path = original;
  if (!path.startsWith('/')) return refuse('the request target does not start with "/"');
  if (hasControlCharacter(path)) return refuse('the path has a control character');
  const escaped = path.includes('%') && ESCAPED_SLASH.test(path);
  if (options.escapedSlashes === 'KEEP_UNCHANGED') {
    // nginx decodes %2F when it matches locations, and upstreams differ on %2F and "\": no single reading to decide on.
    if (options.rawTarget && (escaped || path.includes('\\'))) return refuse('an escaped slash or a backslash in a raw request target is ambiguous');
  } else if (escaped) {
    if (options.escapedSlashes === 'REJECT_REQUEST') return refuse('the path has an escaped slash (%2F or %5C)');
    // UNESCAPE_AND_FORWARD, and UNESCAPE_AND_REDIRECT, whose redirect target is the unescaped path.
    path = path.replace(ESCAPED_SLASH_ALL, (m) => (m[1] === '2' ? '/' : '\\'));
  }
  // nginx merges slashes when it matches locations (merge_slashes on) and upstreams differ on "//": unless idgate merges them too, no single reading.
  if (options.rawTarget && !mergesSlashes(options.normalization) && path.includes('//')) return refuse(RAW_EMPTY_SEGMENT);
  if (options.normalization === 'NONE') return options.rawTarget && hasDotSegment(path) ? refuse(RAW_DOT_SEGMENT) : ok(path);
  const canonical = canonicalizePath(stripDotSegmentParameters(path), options.rawTarget);
  if (!canonical.ok || !mergesSlashes(options.normalization)) return canonical;
  return ok(mergeSlashes(canonical.path));
}

function hasControlCharacter(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A "." or ".." segment, literal or with %2E, as nginx and most upstreams would resolve it. */
function hasDotSegment(path: string): boolean {
  if (!path.includes('.') && !ESCAPED_DOT.test(path)) return false;
  for (const segment of path.split(ANY_SLASH)) {
    const s = segment.replace(ESCAPED_DOT_ALL, '.');
    if (s === '.' || s === '..' || s.startsWith('.;') || s.startsWith('..;')) return true;
  }
  return false;
}

/** Envoy strips parameters from dot segments first ("/..;x/" is "/../"), so the canonicalizer collapses them. */
function stripDotSegmentParameters(path: string): string {
  if (!path.includes('.;')) return path;
  return path
    .split('/')
    .map((s) => (s.startsWith('..;') ? '..' : s.startsWith('.;') ? '.' : s))
    .join('/');
}

/** The length of a dot at `i` ("." or "%2E"), else 0 (Chromium's IsDot). */
function dotAt(path: string, i: number): number {
  const c = path.charCodeAt(i);
  if (c === 0x2e) return 1;
  return c === 0x25 && path.charCodeAt(i + 1) === 0x32 && (path.charCodeAt(i + 2) | 0x20) === 0x65 ? 3 : 0;
}

const isSlash = (c: number) => c === 0x2f || c === 0x5c;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const escapeByte = (b: number) => `%${HEX[b >> 4]}${HEX[b & 15]}`;

/**
 * Chromium's CanonicalizePath over a path starting with "/": unreserved characters decoded, "\" to
 * "/", "." and ".." segments resolved (never above the root), characters that cannot appear raw
 * escaped, other escapes kept as written. Stricter than Chromium: an invalid escape ("%" without two
 * hex digits) and an escaped control character (%00-%1F, %7F) are refused, not passed on.
 */
function canonicalizePath(path: string, bytes: boolean): NormalizedPath {
  let out = '';
  const end = path.length;
  for (let i = 0; i < end; i++) {
    const c = path.charCodeAt(i);
    const dot = c === 0x2e || c === 0x25 ? dotAt(path, i) : 0;
    if (dot > 0) {
      const after = i + dot;
      if (out.charCodeAt(out.length - 1) === 0x2f) {
        if (after === end || isSlash(path.charCodeAt(after))) {
          // "." segment: dropped with its slash.
          i = after;
          continue;
        }
        const second = dotAt(path, after);
        const afterSecond = after + second;
        if (second > 0 && (afterSecond === end || isSlash(path.charCodeAt(afterSecond)))) {
          // ".." segment: back to the previous slash, never above the root.
          out = out.slice(0, out.lastIndexOf('/', out.length - 2) + 1);
          i = afterSecond;
          continue;
        }
      }
      out += '.';
      i = after - 1;
    } else if (c === 0x5c) {
      out += '/';
    } else if (c === 0x25) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return refuse('the path has an invalid percent-encoding ("%" not followed by two hex digits)');
      const value = (hi << 4) | lo;
      if (value < 0x20 || value === 0x7f) return refuse('the path has an escaped control character');
      out += value < 0x80 && CHAR_CLASS[value] === 1 ? String.fromCharCode(value) : path.slice(i, i + 3);
      i += 2;
    } else if (c >= 0x80) {
      const escapedChar = bytes ? escapeLatin1(c) : escapeUtf8(path, i);
      if (escapedChar === undefined) return refuse('the path has a character that cannot be encoded');
      out += escapedChar;
      if (!bytes && c >= 0xd800 && c <= 0xdbff) i++;
    } else if (CHAR_CLASS[c] === 2) {
      out += escapeByte(c);
    } else {
      out += path[i];
    }
  }
  return ok(out);
}

/** A raw target's character is a byte (latin1); anything wider did not come from the wire. */
function escapeLatin1(c: number): string | undefined {
  return c <= 0xff ? escapeByte(c) : undefined;
}

/** The UTF-8 escape of the code point at `i`; undefined for a lone surrogate or U+FFFD (bytes lost in decoding). */
function escapeUtf8(path: string, i: number): string | undefined {
  const cp = path.codePointAt(i)!;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffd) return undefined;
  let out = '';
  for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += escapeByte(b);
  return out;
}

/** Envoy's PathUtil::mergeSlashes: the non-empty segments joined by "/", keeping a leading and a trailing "/". */
function mergeSlashes(path: string): string {
  if (!path.includes('//')) return path;
  const segments = path.split('/').filter((s) => s !== '').join('/');
  return `/${segments}${path.endsWith('/') ? '/' : ''}`;
}

/** The target without its query or fragment (for display, e.g. the audit line). */
export function stripQuery(target: string): string {
  const q = target.indexOf('?');
  const h = target.indexOf('#');
  const end = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return end === -1 ? target : target.slice(0, end);
}

/** The first path segment, the key rules are indexed by ("/api/v1/x" gives "api"). */
export function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}
