/**
 * The policy engine's parts: Istio's string patterns, path templates (the API doc's examples, as Envoy's
 * uri_template matches them), IP blocks, PeerAuthentication merging across levels, and the rule index,
 * which must find exactly the rule a linear scan finds. Path normalization: normalize-path.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { RequestAttributes } from '../../src/authz/policy/attributes.js';
import { ruleBodyMatches } from '../../src/authz/policy/compile-rule.js';
import { compileIpMatcher } from '../../src/authz/policy/ip-match.js';
import { parsePolicyTexts } from '../../src/authz/policy/load.js';
import { compilePathTemplate, validatePathTemplate } from '../../src/authz/policy/path-template.js';
import { PolicySet } from '../../src/authz/policy/policy-set.js';
import { compileStringMatcher } from '../../src/authz/policy/string-match.js';

describe('string patterns', () => {
  it.each([
    [['abc'], 'abc', true], [['abc'], 'abcd', false],
    [['abc*'], 'abc', true], [['abc*'], 'abcd', true], [['abc*'], 'xabc', false],
    [['*abc'], 'xabc', true], [['*abc'], 'abcx', false],
    [['*'], 'x', true], [['*'], '', false], [['*'], undefined, false],
    [['a*b'], 'a*b', true], [['a*b'], 'axb', false],
  ] as const)('%j against %j is %s', (patterns, value, expected) => {
    expect(compileStringMatcher(patterns, false)(value)).toBe(expected);
  });

  it('compares hosts case-insensitively when asked', () => {
    expect(compileStringMatcher(['*.Example.com'], true)('API.example.COM')).toBe(true);
    expect(compileStringMatcher(['*.Example.com'], false)('API.example.COM')).toBe(false);
  });
});

describe('path templates', () => {
  it.each([
    ['/foo/{*}', '/foo/bar', true], ['/foo/{*}', '/foo/bar/baz', false],
    ['/foo/{**}/', '/foo/bar/', true], ['/foo/{**}/', '/foo//', true], ['/foo/{**}/', '/foo/bar', false],
    ['/foo/{*}/bar/{**}', '/foo/buzz/bar/', true], ['/foo/{*}/bar/{**}', '/foo/buzz/bar/baz', true], ['/foo/{*}/bar/{**}', '/foo/buzz/baz', false],
    // Envoy's uri_template: the "/" before {**} is a literal the path must have.
    ['/x/{**}', '/x', false], ['/x/{**}', '/x/', true], ['/x/{**}', '/x/a/b', true],
    ['/foo/{**}/bar', '/foo/bar', false], ['/foo/{**}/bar', '/foo//bar', true], ['/foo/{**}/bar', '/foo/a/b/bar', true],
    // The API doc lists /foo/bar/baz.txt as a match of /foo/{**}/; Envoy's expression (/foo/[pchar/]*/) needs the trailing "/".
    ['/foo/{**}/', '/foo/bar/baz.txt', false],
    // Operators match Envoy's literal characters only (RFC 3986 pchar without "*"); literals are not patterns.
    ['/foo/{*}', '/foo/a*b', false], ['/foo/{*}', '/foo/', false], ['/a.b/{*}', '/aXb/c', false], ['/a.b/{*}', '/a.b/c', true],
  ])('%s matches %s: %s', (template, path, expected) => {
    expect(validatePathTemplate(template)).toBeUndefined();
    expect(compilePathTemplate(template)(path)).toBe(expected);
  });

  it.each(['/*/baz/{*}', '/{**}/foo/{*}', '/foo/{*}.txt'])('refuses %s', (template) => {
    expect(validatePathTemplate(template)).toBeDefined();
  });
});

describe('IP blocks', () => {
  it('matches IPv4 and IPv6 CIDRs and single addresses, including IPv4-mapped IPv6', () => {
    const match = compileIpMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    expect([match('10.255.0.1'), match('192.0.2.7'), match('192.0.2.8'), match('2001:db8:1::5'), match('2001:db9::1'), match('::ffff:10.1.1.1'), match(undefined), match('nope')])
      .toEqual([true, true, false, true, false, true, false, false]);
  });
});

const pa = (name: string, ns: string, spec: string, created?: string) =>
  `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''} }\nspec: ${spec}\n---\n`;

function policySet(text: string): PolicySet {
  const parsed = parsePolicyTexts([{ file: 't.yaml', text }], { rootNamespace: 'istio-system' });
  expect(parsed.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return new PolicySet(parsed.resources, 'istio-system');
}

describe('PeerAuthentication merge', () => {
  it('applies mesh, then namespace, then workload, then port', () => {
    const set = policySet(
      pa('mesh', 'istio-system', '{ mtls: { mode: STRICT } }') +
        pa('ns', 'relaxed', '{ mtls: { mode: PERMISSIVE } }') +
        pa('wl', 'relaxed', '{ selector: { matchLabels: { app: db } }, mtls: { mode: STRICT }, portLevelMtls: { "9000": { mode: DISABLE } } }'),
    );
    expect(set.viewFor({ namespace: 'other', labels: {} }).mtlsMode(80)).toBe('STRICT');
    expect(set.viewFor({ namespace: 'relaxed', labels: {} }).mtlsMode(80)).toBe('PERMISSIVE');
    expect(set.viewFor({ namespace: 'relaxed', labels: { app: 'db' } }).mtlsMode(80)).toBe('STRICT');
    expect(set.viewFor({ namespace: 'relaxed', labels: { app: 'db' } }).mtlsMode(9000)).toBe('DISABLE');
  });

  it('defaults to PERMISSIVE, lets UNSET inherit, and ignores selector policies in the root namespace', () => {
    const set = policySet(pa('ns', 'a', '{ mtls: { mode: UNSET } }') + pa('root-wl', 'istio-system', '{ selector: { matchLabels: { app: x } }, mtls: { mode: STRICT } }'));
    expect(set.viewFor({ namespace: 'a', labels: { app: 'x' } }).mtlsMode(80)).toBe('PERMISSIVE');
  });

  it('lets the oldest policy win within a level', () => {
    const set = policySet(pa('newer', 'a', '{ mtls: { mode: DISABLE } }', '2024-02-01T00:00:00Z') + pa('older', 'a', '{ mtls: { mode: STRICT } }', '2023-01-01T00:00:00Z'));
    expect(set.viewFor({ namespace: 'a', labels: {} }).mtlsMode(undefined)).toBe('STRICT');
  });
});

describe('rule index', () => {
  it('finds the same first matching rule as a linear scan, for indexed and unindexed rules', () => {
    const rules: string[] = [];
    for (let i = 0; i < 60; i++) {
      const paths = i % 5 === 0 ? `["*.json"]` : i % 7 === 0 ? `["/svc${i % 3}/{*}/x", "/other${i}"]` : i % 11 === 0 ? `["/tree${i % 2}/{**}", "/{**}/end"]` : `["/svc${i % 3}/item${i}", "/svc${i % 3}/pre${i}/*"]`;
      rules.push(`  - to: [{ operation: { paths: ${paths}${i % 4 === 0 ? ', methods: [POST]' : ''} } }]`);
    }
    const set = policySet(`apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: big, namespace: n }\nspec:\n  rules:\n${rules.join('\n')}\n`);
    const view = set.viewFor({ namespace: 'n', labels: {} });
    const paths = ['/svc0/item3', '/svc1/item4', '/svc1/pre13/a', '/svc2/a.json', '/svc0/q/x', '/svc1/q/x', '/other7', '/nothing', '/', '/svc2/item8',
      '/tree0', '/tree0/', '/tree1/a/b', '/x/end', '/end', '//end'];
    for (const path of paths) {
      for (const method of ['GET', 'POST']) {
        const attributes: RequestAttributes = { host: 'h', method, path, headers: {}, spaceDelimitedClaims: new Set() };
        const linear = view.allow.rules.find((rule) => ruleBodyMatches(rule.body, attributes));
        expect(view.allow.firstMatch(attributes)?.ordinal, `${method} ${path}`).toBe(linear?.ordinal);
      }
    }
  });
});
