/**
 * normalizeRequestPath: the path a decision is made on, as Envoy's HTTP connection manager computes
 * the path it forwards (fragment refused, escaped slashes, normalize_path, merge_slashes, in that
 * order), for every pathNormalization value and escaped-slashes action, and for raw request targets
 * (nginx, Traefik), where what is ambiguous is refused. Envoy's own test vectors are reused where
 * they exist (test/common/http/path_utility_test.cc).
 */
import { describe, expect, it } from 'vitest';
import {
  defaultEscapedSlashesAction, normalizeRequestPath, type EscapedSlashesAction, type PathNormalization, type PathNormalizationOptions,
} from '../../src/authz/policy/normalize-path.js';

const envoy = (normalization: PathNormalization, escapedSlashes: EscapedSlashesAction = defaultEscapedSlashesAction(normalization)): PathNormalizationOptions =>
  ({ normalization, escapedSlashes, rawTarget: false });
const raw = (normalization: PathNormalization, escapedSlashes: EscapedSlashesAction = defaultEscapedSlashesAction(normalization)): PathNormalizationOptions =>
  ({ normalization, escapedSlashes, rawTarget: true });

function normalized(target: string, options: PathNormalizationOptions): string {
  const result = normalizeRequestPath(target, options);
  if (!result.ok) throw new Error(`${target} was refused: ${result.reason}`);
  return result.path;
}

function refusal(target: string, options: PathNormalizationOptions): string {
  const result = normalizeRequestPath(target, options);
  if (result.ok) throw new Error(`${target} was accepted as ${result.path}`);
  return result.reason;
}

describe('normalize_path (BASE), as Envoy canonicalizes', () => {
  it.each([
    // Envoy's NormalizeValidPaths and NormalizeCasePath vectors.
    ['/a/b/../c', '/a/c'], ['/a/b/./c', '/a/b/c'], ['/a/b/../../../../c', '/c'], ['/a/..\\c', '/c'],
    ['/%c0%af', '/%c0%af'], ['/%5c%25', '/%5c%25'], ['/a/b/%2E%2E/c', '/a/c'], ['/a/b/%2e%2e/c', '/a/c'],
    ['/A/B/C', '/A/B/C'], ['/a/%2F%2f/c', '/a/%2F%2f/c'], ['/xyz', '/xyz'], ['/x/y/z', '/x/y/z'],
    // Parameters on dot segments are stripped first (strip_dotdot_segments_with_parameters).
    ['/xyz/..;foo=bar/abc', '/abc'], ['/..;foo=bar/abc', '/abc'], ['/xyz/..;foo=bar', '/'], ['/xyz/.;foo=bar/abc', '/xyz/abc'],
    ['/xyz/.;foo=bar', '/xyz/'], ['/xyz/..;foo=bar/.;v1=2,v2=3/abc', '/abc'], ['/.;aaa/..;foo=bar/abc/.;mmm', '/abc/'],
    ['/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query', '/remain;blah-bluh'], ['/xyz/...;foo', '/xyz/...;foo'],
    // Unreserved characters decoded; "%2e%2e" is a dot segment, a dot next to %2F is not.
    ['/%61pi/orders', '/api/orders'], ['/%7e%2d%5f%41%39', '/~-_A9'], ['/static/%2e%2e/api', '/api'], ['/static/.%2E/api', '/api'],
    ['/static/%2e./api', '/api'], ['/a%2eb', '/a.b'], ['/static/..%2fapi/orders', '/static/..%2fapi/orders'],
    ['/static/%2e%2e%2fapi/orders', '/static/..%2fapi/orders'], ['/a/%2e', '/a/'],
    // Dot segments never climb above the root; other dots are names.
    ['/..', '/'], ['/.', '/'], ['/a/..', '/'], ['/a/.', '/a/'], ['/...', '/...'], ['/a/.b/..c', '/a/.b/..c'], ['/a//../b', '/a/b'],
    // Characters that cannot appear raw are escaped (upper-case hex), reserved ones and other escapes kept as written.
    ['/a b', '/a%20b'], ['/"<>^`{|}', '/%22%3C%3E%5E%60%7B%7C%7D'], ["/!$&'()*+,;=:@[]", "/!$&'()*+,;=:@[]"], ['/%3a%2B', '/%3a%2B'],
    // Non-ASCII text (gRPC strings are Unicode) becomes its UTF-8 escapes.
    ['/café', '/caf%C3%A9'], ['/李', '/%E6%9D%8E'], ['/😀', '/%F0%9F%98%80'],
    // The query is dropped for matching.
    ['/a/b?x=/../c', '/a/b'], ['/a?', '/a'],
  ])('%s -> %s', (target, expected) => {
    expect(normalized(target, envoy('BASE'))).toBe(expected);
  });

  it.each([
    ['/xyz/.%00../abc', /escaped control/], ['/xyz/%00.%00./abc', /escaped control/], ['/xyz/AAAAA%%0000/abc', /invalid percent-encoding/],
    ['/static/%zz', /invalid percent-encoding/], ['/a%', /invalid percent-encoding/], ['/a%2', /invalid percent-encoding/], ['/a%2g', /invalid percent-encoding/],
    ['/a%1f', /escaped control/], ['/a%7F', /escaped control/], ['/a\u0000b', /control character/], ['/a\tb', /control character/], ['/a\u007f', /control character/],
    ['/static/a#frag', /fragment/], ['/a?b#c', /fragment/], ['/#', /fragment/],
    ['a/b', /does not start with/], ['', /does not start with/], ['*', /does not start with/], ['\\a', /does not start with/],
    ['/\ud800x', /cannot be encoded/], ['/\udc00', /cannot be encoded/], ['/\ufffd', /cannot be encoded/],
  ])('refuses %j', (target, reason) => {
    expect(refusal(target, envoy('BASE'))).toMatch(reason);
  });

  it('gives Envoy-normalized paths back unchanged, so deciding again on what Envoy forwards is the same decision', () => {
    const inputs = ['/a/b/../c', '/static/%2e%2e%2fapi/x', '/a//./../b/', '/x/..;p/y', '/ü/%41/%2f/..', '/a\\..\\b', '/../..', '/a b/c"d'];
    for (const normalization of ['BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const) {
      for (const input of inputs) {
        const once = normalized(input, envoy(normalization));
        expect(normalized(once, envoy(normalization)), `${normalization} ${input}`).toBe(once);
      }
    }
  });
});

describe('pathNormalization values', () => {
  it.each([
    // NONE: nothing, not even backslashes or dot segments.
    ['NONE', '/a/../b\\c/./%2e%41', '/a/../b\\c/./%2e%41'], ['NONE', '/a//b?q', '/a//b'], ['NONE', '/a%2Fb', '/a%2Fb'],
    // BASE keeps double slashes.
    ['BASE', '//api//orders', '//api//orders'],
    // MERGE_SLASHES merges after normalize_path, as Envoy does: /a//../b is /a/b (merging first would give /b).
    ['MERGE_SLASHES', '//api//orders', '/api/orders'], ['MERGE_SLASHES', '/a//../b', '/a/b'], ['MERGE_SLASHES', '/a//b/', '/a/b/'],
    ['MERGE_SLASHES', '/a%2F%2fb', '/a%2F%2fb'], ['MERGE_SLASHES', '//', '//'],
    // DECODE_AND_MERGE_SLASHES: %2F and %5C decoded first (UNESCAPE_AND_FORWARD), so they take part in dot segments.
    ['DECODE_AND_MERGE_SLASHES', '/a%2F%2fb', '/a/b'], ['DECODE_AND_MERGE_SLASHES', '/static/..%2fapi/orders', '/api/orders'],
    ['DECODE_AND_MERGE_SLASHES', '/static/%2e%2e%2fapi/orders', '/api/orders'], ['DECODE_AND_MERGE_SLASHES', '/static%5c..%5Capi', '/api'],
    ['DECODE_AND_MERGE_SLASHES', '/a%252Fb', '/a%252Fb'],
  ] as const)('%s: %s -> %s', (mode, target, expected) => {
    expect(normalized(target, envoy(mode))).toBe(expected);
  });

  it('defaults the escaped-slashes action as Istio does', () => {
    expect(defaultEscapedSlashesAction('DECODE_AND_MERGE_SLASHES')).toBe('UNESCAPE_AND_FORWARD');
    for (const mode of ['NONE', 'BASE', 'MERGE_SLASHES'] as const) expect(defaultEscapedSlashesAction(mode)).toBe('KEEP_UNCHANGED');
  });

  it('refuses fragments and targets without a leading "/" even with NONE', () => {
    expect(refusal('/a#b', envoy('NONE'))).toMatch(/fragment/);
    expect(refusal('a', envoy('NONE'))).toMatch(/does not start with/);
    expect(refusal('/a\u0000', envoy('NONE'))).toMatch(/control character/);
  });
});

describe('pathWithEscapedSlashesAction', () => {
  it.each([
    ['KEEP_UNCHANGED', '/a%2Fb/..%5cc', '/a%2Fb/..%5cc'],
    ['UNESCAPE_AND_FORWARD', '/a%2Fb/..%5cc', '/a/c'],
    ['UNESCAPE_AND_REDIRECT', '/a%2Fb/..%5cc', '/a/c'],
    ['UNESCAPE_AND_FORWARD', '/a%2Fb%2f', '/a/b/'],
    // One pass, like Envoy's StrReplaceAll: what decoding leaves behind is not decoded again.
    ['UNESCAPE_AND_FORWARD', '/a%252F', '/a%252F'],
  ] as const)('%s: %s -> %s', (action, target, expected) => {
    expect(normalized(target, envoy('BASE', action))).toBe(expected);
  });

  it('REJECT_REQUEST refuses %2F, %2f, %5C and %5c, and nothing else', () => {
    for (const target of ['/a%2Fb', '/a%2fb', '/a%5Cb', '/a%5cb']) expect(refusal(target, envoy('BASE', 'REJECT_REQUEST'))).toMatch(/escaped slash/);
    expect(normalized('/a%252F%41\\b', envoy('BASE', 'REJECT_REQUEST'))).toBe('/a%252FA/b');
    expect(refusal('/a%2Fb', envoy('NONE', 'REJECT_REQUEST'))).toMatch(/escaped slash/);
  });

  it('applies the escaped-slashes action with NONE too, as Envoy does (it is a separate setting)', () => {
    expect(normalized('/a%2Fb/../c', envoy('NONE', 'UNESCAPE_AND_FORWARD'))).toBe('/a/b/../c');
  });

  it('decodes escaped slashes in the path only, not in the query', () => {
    expect(normalized('/a%2Fb?x=%2F', envoy('BASE', 'UNESCAPE_AND_FORWARD'))).toBe('/a/b');
  });
});

describe('raw request targets (nginx, Traefik)', () => {
  it.each([
    '/static/..%2fapi/orders', '/static/%2e%2e%2fapi/orders', '/a%2Fb', '/a%5cb', '/static\\..\\api', '/a\\b',
  ])('refuses %s with KEEP_UNCHANGED as ambiguous', (target) => {
    for (const mode of ['BASE', 'MERGE_SLASHES', 'NONE'] as const) expect(refusal(target, raw(mode, 'KEEP_UNCHANGED'))).toMatch(/ambiguous/);
  });

  it('decides on the unescaped path when the config says the upstream decodes (UNESCAPE_*)', () => {
    expect(normalized('/static/..%2fapi/orders', raw('DECODE_AND_MERGE_SLASHES'))).toBe('/api/orders');
    expect(normalized('/static/..%2fapi/orders', raw('BASE', 'UNESCAPE_AND_FORWARD'))).toBe('/api/orders');
    expect(normalized('/static\\..\\api', raw('BASE', 'UNESCAPE_AND_REDIRECT'))).toBe('/api');
    expect(refusal('/a%2Fb', raw('BASE', 'REJECT_REQUEST'))).toMatch(/escaped slash/);
  });

  it('normalizes what is not ambiguous as Envoy would', () => {
    expect(normalized('/static/%2e%2e/api/orders', raw('BASE'))).toBe('/api/orders');
    expect(normalized('/%61pi/orders', raw('BASE'))).toBe('/api/orders');
    expect(normalized('//api//orders', raw('MERGE_SLASHES'))).toBe('/api/orders');
    expect(normalized('/plain/path', raw('BASE'))).toBe('/plain/path');
  });

  it('refuses an empty segment ("//") unless slashes are merged: nginx merges them when it routes, upstreams differ', () => {
    for (const mode of ['BASE', 'NONE'] as const) {
      for (const target of ['//api/orders', '/static//x', '/a/%2e%2e//b']) expect(refusal(target, raw(mode))).toMatch(/empty segment/);
    }
    expect(normalized('//api/orders', envoy('BASE'))).toBe('//api/orders');
    expect(normalized('//api/orders', raw('MERGE_SLASHES'))).toBe('/api/orders');
  });

  it('refuses dot segments with NONE, which nginx and most upstreams resolve', () => {
    for (const target of ['/static/../api', '/static/%2e%2e/api', '/./a', '/a/..', '/a/..;x/b']) expect(refusal(target, raw('NONE'))).toMatch(/dot segment/);
    expect(normalized('/a/..b/.c', raw('NONE'))).toBe('/a/..b/.c');
    expect(normalized('/static/../api', envoy('NONE'))).toBe('/static/../api');
  });

  it('escapes a non-ASCII byte as that byte (Node reads header values as latin1)', () => {
    // "é" sent raw as UTF-8 (C3 A9) arrives in the header as the two latin1 characters "Ã©".
    expect(normalized('/caf\u00c3\u00a9', raw('BASE'))).toBe('/caf%C3%A9');
    expect(refusal('/李', raw('BASE'))).toMatch(/cannot be encoded/);
  });

  it('still refuses what no mode can interpret', () => {
    for (const target of ['/a#b', '/%zz', '/a%00', 'nope']) expect(normalizeRequestPath(target, raw('BASE')).ok).toBe(false);
  });
});
