/**
 * Policy validation (`idgate authz check`) and `idgate authz explain`: specific errors with file,
 * document and field path; Istio's rules on path templates and unknown keys; warnings where idgate is
 * lenient (a DENY policy without rules, CUSTOM policies, which it ignores).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuthzCommand } from '../../src/authz/cli.js';
import { parsePolicyTexts } from '../../src/authz/policy/load.js';

function problems(yaml: string, severity: 'error' | 'warning' = 'error'): string[] {
  return parsePolicyTexts([{ file: 'p.yaml', text: yaml }], { rootNamespace: 'istio-system' }).problems
    .filter((p) => p.severity === severity)
    .map((p) => `${p.path}: ${p.message}`);
}

const ap = (spec: string, meta = 'metadata: { name: p, namespace: ns }') => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n${meta}\nspec:\n${spec}`;

describe('policy validation', () => {
  it('accepts a valid policy with every field', () => {
    expect(problems(ap(`  action: ALLOW
  rules:
  - from: [{ source: { principals: [a], notRequestPrincipals: ["*"], ipBlocks: ["10.0.0.0/8"], trustDomains: ["td"] } }]
    to: [{ operation: { hosts: [h], ports: ["80"], methods: [GET], paths: ["/a/{*}/b/{**}"] } }]
    when: [{ key: "request.auth.claims[a][b]", values: [x] }, { key: connection.sni, notValues: [y] }]`))).toEqual([]);
  });

  it('accepts a DENY policy with no rules (it never matches), with a warning', () => {
    for (const rules of ['', '\n  rules: []']) {
      expect(problems(ap(`  action: DENY${rules}`))).toEqual([]);
      expect(problems(ap(`  action: DENY${rules}`), 'warning')).toEqual(['spec.rules: a DENY policy with no rules never matches; add an empty rule {} to deny everything']);
    }
  });

  it('accepts a CUSTOM policy with a warning that it is ignored', () => {
    const custom = ap('  selector: { matchLabels: { istio: ingressgateway } }\n  action: CUSTOM\n  provider: { name: idgate }\n  rules: [{}]');
    expect(problems(custom)).toEqual([]);
    expect(problems(custom, 'warning')).toEqual(['spec.action: ignored: CUSTOM policies are enforced by the proxy that calls idgate']);
  });

  it("reports Istio's CUSTOM restrictions, and anything else wrong in a CUSTOM policy, as warnings", () => {
    const custom = ap(`  action: CUSTOM
  targetRefs: [{ kind: Gateway, name: gw }]
  rules:
  - from: [{ source: { principals: [a], requestPrincipals: ["*"], ipBlocks: ["10.0.0.0/8"] } }]
    to: [{ operation: { paths: ["/x/{id}"] } }]
    when: [{ key: "request.auth.claims[group]", values: [g] }, { key: source.namespace, values: [n] }, { key: remote.ip, values: ["10.0.0.1"] }]`);
    expect(problems(custom)).toEqual([]);
    expect(problems(custom, 'warning')).toEqual([
      'spec.action: ignored: CUSTOM policies are enforced by the proxy that calls idgate',
      'spec.provider.name: must not be empty',
      'spec.rules[0].from[0].source.principals: not supported with action CUSTOM',
      'spec.rules[0].from[0].source.requestPrincipals: not supported with action CUSTOM',
      'spec.rules[0].when[0].key: "request.auth.claims[group]" is not supported with action CUSTOM',
      'spec.rules[0].when[1].key: "source.namespace" is not supported with action CUSTOM',
      'spec.targetRefs: targetRefs are not supported: use selector.matchLabels',
      'spec.rules[0].to[0].operation.paths[0]: invalid path template "/x/{id}": only {*} and {**} operators are allowed',
    ]);
    expect(problems(ap('  action: CUSTOM\n  provider: { name: idgate }'), 'warning')).toContain('spec.rules: a CUSTOM policy with no rules never triggers; add an empty rule {} to send every request');
  });

  it('refuses provider without action CUSTOM', () => {
    expect(problems(ap('  provider: { name: idgate }\n  rules: [{}]'))).toEqual(['spec.provider: provider is only allowed with action CUSTOM']);
  });

  it.each([
    ['/*/baz/{*}', '"*", "{" and "}" are only allowed'],
    ['/{**}/foo/{*}', 'the {**} operator must be the last operator'],
    ['/foo/{*}.txt', '"*", "{" and "}" are only allowed'],
    ['/foo/{id}', 'only {*} and {**} operators are allowed'],
  ])('refuses the bad path template %s', (path, message) => {
    const found = problems(ap(`  rules: [{ to: [{ operation: { paths: ["${path}"] } }] }]`));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('spec.rules[0].to[0].operation.paths[0]: invalid path template');
    expect(found[0]).toContain(message);
  });

  it('names an unknown key in the spec with its path', () => {
    expect(problems(ap('  rules: [{ to: [{ operation: { path: ["/x"] } }] }]'))).toEqual(['spec.rules[0].to[0].operation.path: unknown key "path"']);
  });

  it('names an unknown top-level key', () => {
    expect(problems(`apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p }\nsepc: {}\n`)).toContain('sepc: unknown key "sepc"');
  });

  it('refuses unknown and unsupported when keys', () => {
    expect(problems(ap('  rules: [{ when: [{ key: request.foo, values: [x] }, { key: "destination.labels[app]", values: [x] }] }]'))).toEqual([
      'spec.rules[0].when[0].key: unknown attribute "request.foo"',
      'spec.rules[0].when[1].key: destination.labels is not supported: use the policy selector',
    ]);
  });

  it('refuses a condition with neither values nor notValues', () => {
    expect(problems(ap('  rules: [{ when: [{ key: source.ip }] }]'))).toEqual(['spec.rules[0].when[0]: needs values or notValues']);
  });

  it('refuses empty from/to lists and empty source/operation', () => {
    expect(problems(ap('  rules: [{ from: [], to: [{ operation: {} }] }]'))).toEqual([
      'spec.rules[0].from: must not be empty (omit it to match any source)',
      'spec.rules[0].to[0].operation: an empty operation is not allowed',
    ]);
  });

  it('refuses bad IPs and ports', () => {
    expect(problems(ap('  rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/33"] } }], to: [{ operation: { ports: ["http"] } }] }]'))).toEqual([
      'spec.rules[0].from[0].source.ipBlocks[0]: "10.0.0.0/33" is not an IP address or CIDR block',
      'spec.rules[0].to[0].operation.ports[0]: "http" is not a port (0-65535)',
    ]);
  });

  it('refuses serviceAccounts combined with principals', () => {
    expect(problems(ap('  rules: [{ from: [{ source: { serviceAccounts: [a], principals: [b] } }] }]'))).toEqual([
      'spec.rules[0].from[0].source: serviceAccounts cannot be combined with principals or namespaces',
    ]);
  });

  it('refuses targetRefs (use selector)', () => {
    expect(problems(ap('  targetRefs: [{ kind: Gateway, name: gw }]\n  rules: [{}]'))).toEqual(['spec.targetRefs: targetRefs are not supported: use selector.matchLabels']);
  });

  it('refuses jwks and jwksUri together and a bad jwksUri scheme', () => {
    const ra = `apiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\nmetadata: { name: r, namespace: n }\nspec:\n  jwtRules:\n  - { issuer: i, jwks: '{"keys":[]}', jwksUri: "https://x" }\n  - { issuer: i, jwksUri: "ftp://x" }\n`;
    expect(problems(ra)).toEqual(['spec.jwtRules[0]: set at most one of jwks and jwksUri', 'spec.jwtRules[1].jwksUri: must be an http or https URL']);
  });

  it('refuses portLevelMtls without a selector', () => {
    const pa = `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: r, namespace: n }\nspec:\n  portLevelMtls: { "8080": { mode: STRICT } }\n`;
    expect(problems(pa)).toEqual(['spec.portLevelMtls: port level mTLS needs a workload selector']);
  });

  it('refuses a RoleBinding to a Role that does not exist', () => {
    const rb = `apiVersion: idgate.dev/v1alpha1\nkind: RoleBinding\nmetadata: { name: b }\nspec: { roles: [ghost], subjects: [{ group: g }] }\n`;
    expect(problems(rb)).toEqual(['spec.roles[0]: no Role "ghost" in namespace "istio-system"']);
  });

  it('refuses an unknown kind and an unsupported version', () => {
    expect(problems('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicyy\nmetadata: { name: x }\n')).toEqual([
      'kind: unknown kind "AuthorizationPolicyy" for security.istio.io/v1 (expected AuthorizationPolicy, RequestAuthentication, PeerAuthentication)',
    ]);
    expect(problems('apiVersion: security.istio.io/v1alpha1\nkind: Policy\nmetadata: { name: x }\n')).toEqual(['apiVersion: unsupported version "security.istio.io/v1alpha1" (use security.istio.io/v1 or v1beta1)']);
  });

  it('refuses the same policy defined twice', () => {
    expect(problems(`${ap('  rules: [{}]')}\n---\n${ap('  rules: [{}]')}`)).toEqual(['metadata.name: defined twice']);
  });

  it('ignores other Kubernetes kinds with a warning, not an error', () => {
    const parsed = parsePolicyTexts([{ file: 'p.yaml', text: 'apiVersion: v1\nkind: Service\nmetadata: { name: s }\n' }], { rootNamespace: 'istio-system' });
    expect(parsed.problems.map((p) => p.severity)).toEqual(['warning']);
    expect(parsed.resources).toEqual([]);
  });

  it('reads several documents and kind: List', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: security.istio.io/v1\n  kind: AuthorizationPolicy\n  metadata: { name: a, namespace: n }\n  spec: { rules: [{}] }\n`;
    const parsed = parsePolicyTexts([{ file: 'p.yaml', text: `${list}---\n${ap('  rules: [{}]')}` }], { rootNamespace: 'istio-system' });
    expect(parsed.resources.map((r) => `${r.namespace}/${r.name}`)).toEqual(['n/a', 'ns/p']);
  });
});

describe('idgate authz check and explain', () => {
  let dir: string;
  let reqFile: string;
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idgate-cli-'));
    reqFile = `${dir}.request.json`;
    await writeFile(join(dir, 'good.yaml'), ap('  rules:\n  - to: [{ operation: { paths: ["/public/*"] } }]\n  - from: [{ source: { requestPrincipals: ["https://i/*"] } }]', 'metadata: { name: web, namespace: shop }'));
    await writeFile(join(dir, 'deny.yaml'), ap('  action: DENY\n  rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }]', 'metadata: { name: no-admin, namespace: shop }'));
    // explain checks assumed claims as serve checks a token: their issuer must have a jwtRule.
    await writeFile(join(dir, 'authn.yaml'), 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: jwt, namespace: shop }\nspec: { jwtRules: [{ issuer: "https://i" }] }\n');
    await writeFile(reqFile, JSON.stringify({ namespace: 'shop', path: '/private', claims: { iss: 'https://i', sub: 'u' } }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(reqFile, { force: true });
  });

  it('check exits 0 on valid files and 1 with the problem on invalid ones', async () => {
    expect(await runAuthzCommand(['check', dir], io)).toBe(0);
    await writeFile(join(dir, 'bad.yaml'), ap('  rules: [{ to: [{ operation: { paths: ["/x/{id}"] } }] }]', 'metadata: { name: bad, namespace: shop }'));
    out.length = err.length = 0;
    expect(await runAuthzCommand(['check', dir], io)).toBe(1);
    expect(err.join('')).toContain('error: ');
    expect(err.join('')).toContain('bad.yaml#0 (AuthorizationPolicy shop/bad): spec.rules[0].to[0].operation.paths[0]: invalid path template "/x/{id}"');
    await rm(join(dir, 'bad.yaml'));
  });

  it('check prints the warnings for a CUSTOM policy and a DENY policy without rules, and exits 0', async () => {
    await writeFile(join(dir, 'lenient.yaml'), `${ap('  action: CUSTOM\n  provider: { name: idgate }\n  rules: [{}]', 'metadata: { name: ext-authz, namespace: istio-system }')}\n---\n${ap('  action: DENY', 'metadata: { name: deny-nothing, namespace: shop }')}`);
    out.length = err.length = 0;
    try {
      expect(await runAuthzCommand(['check', dir], io)).toBe(0);
      const printed = out.join('');
      expect(printed).toContain('warning: ');
      expect(printed).toContain('lenient.yaml#0 (AuthorizationPolicy istio-system/ext-authz): spec.action: ignored: CUSTOM policies are enforced by the proxy that calls idgate');
      expect(printed).toContain('lenient.yaml#1 (AuthorizationPolicy shop/deny-nothing): spec.rules: a DENY policy with no rules never matches; add an empty rule {} to deny everything');
      expect(printed).toContain('0 error(s)');
      expect(err.join('')).toBe('');
    } finally {
      await rm(join(dir, 'lenient.yaml'));
    }
  });

  it('explain names the deciding policy and why the others did not match', async () => {
    out.length = 0;
    expect(await runAuthzCommand(['explain', '--policies', dir, '--namespace', 'shop', '--path', '/admin/x'], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain('decision: DENY (403) reason=denied_by_policy policy=shop/no-admin rule=0');
    expect(text).toContain('rule[0]: no match: no to matched: to[0].operation.paths did not match');
    expect(text).toContain('rule[1]: no match: no from matched: from[0].source.requestPrincipals did not match');
  });

  it('explain reads a request from a JSON file', async () => {
    out.length = 0;
    expect(await runAuthzCommand(['explain', '--policies', dir, '--request', reqFile, '--json'], io)).toBe(0);
    const explanation = JSON.parse(out.join('')) as { result: { decision: string; policy: string; rule: number } };
    expect(explanation.result).toMatchObject({ decision: 'allow', policy: 'shop/web', rule: 1 });
  });

  it('explain says when no ALLOW rule matched', async () => {
    out.length = 0;
    await runAuthzCommand(['explain', '--policies', dir, '--namespace', 'shop', '--path', '/private'], io);
    expect(out.join('')).toContain('decision: DENY (403) reason=no_allow_match');
  });
});
