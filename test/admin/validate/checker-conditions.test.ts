/**
 * The conditions behind the codes, beyond one fixture each: when Kiali's checks stay silent (auto
 * mTLS, a DestinationRule that settles it, permissive counted as enabled), how idgate's own reason
 * about scope and order (shadowing across policies, the root namespace), and the inputs they accept
 * (kind: List, v1beta1, the mesh config's root namespace).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unreachablePath } from '../../../src/admin/validate/checkers/unreachable-paths.js';
import { formatText } from '../../../src/admin/validate/format/text.js';
import { ruleCovers } from '../../../src/admin/validate/rule-algebra.js';
import { validateSources, type ValidateOptions } from '../../../src/admin/validate/validate-sources.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

const obj = (apiVersion: string, kind: string, ns: string, name: string, spec: string) =>
  `---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: ${spec}\n`;
const ap = (ns: string, name: string, spec: string) => obj('security.istio.io/v1', 'AuthorizationPolicy', ns, name, spec);
const pa = (ns: string, name: string, spec: string) => obj('security.istio.io/v1', 'PeerAuthentication', ns, name, spec);
const dr = (ns: string, name: string, spec: string) => obj('networking.istio.io/v1', 'DestinationRule', ns, name, spec);
const deployment = (ns: string, name: string, labels: string) => obj('apps/v1', 'Deployment', ns, name, `{ template: { metadata: { labels: ${labels} } } }`);
const meshConfig = (mesh: string) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio, namespace: istio-system }\ndata: { mesh: "${mesh}" }\n`;

async function findings(yaml: string, options: Partial<ValidateOptions> = {}): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-validate-cond-'));
  temps.push(dir);
  await writeFile(join(dir, 'set.yaml'), yaml);
  const report = await validateSources([dir], { offline: true, ...options });
  return report.findings.map((f) => `${f.code} ${f.namespace}/${f.name} ${f.path}`);
}

describe("Kiali's mTLS checks stay silent where Kiali's do", () => {
  it('KIA0401/KIA0501: not with auto mTLS on (Istio\'s default), nor with the DestinationRule that enables mTLS', async () => {
    expect(await findings(pa('istio-system', 'mesh', '{ mtls: { mode: STRICT } }') + pa('a', 'ns', '{ mtls: { mode: STRICT } }'))).toEqual([]);
    const off = meshConfig('enableAutoMtls: false');
    expect(await findings(off + pa('a', 'ns', '{ mtls: { mode: STRICT } }') + dr('istio-system', 'mesh', '{ host: "*.local", trafficPolicy: { tls: { mode: ISTIO_MUTUAL } } }'))).toEqual(['KIA0205 istio-system/mesh spec.trafficPolicy.tls.mode']);
    // MUTUAL is not "enabled" for Kiali's missing-DestinationRule checks (ISTIO_MUTUAL only).
    expect(await findings(off + pa('a', 'ns', '{ mtls: { mode: STRICT } }') + dr('a', 'ns', '{ host: "*.a.svc.cluster.local", trafficPolicy: { tls: { mode: MUTUAL } } }'))).toEqual(['KIA0501 a/ns spec.mtls']);
  });

  it('KIA0505: the first namespace-wide DestinationRule decides, and a mesh-wide one enabling mTLS counts when none does', async () => {
    const off = pa('a', 'off', '{ mtls: { mode: DISABLE } }');
    expect(await findings(off + dr('a', 'plain', '{ host: "*.a.svc.cluster.local", trafficPolicy: { tls: { mode: DISABLE } } }') + dr('istio-system', 'mesh', '{ host: "*.local", trafficPolicy: { tls: { mode: ISTIO_MUTUAL } } }')))
      .not.toContain('KIA0505 a/off spec.mtls');
    expect(await findings(off + dr('istio-system', 'mesh', '{ host: "*.local", trafficPolicy: { tls: { mode: ISTIO_MUTUAL } } }'))).toContain('KIA0505 a/off spec.mtls');
  });

  it('KIA0105: permissive counts as enabled, auto mTLS with nothing configured too; DISABLE and auto mTLS off without configuration do not', async () => {
    const sni = ap('a', 'p', '{ rules: [{ when: [{ key: connection.sni, values: [x] }] }] }');
    expect(await findings(sni)).toEqual([]);
    expect(await findings(sni + pa('a', 'ns', '{ mtls: { mode: PERMISSIVE } }'))).toEqual([]);
    expect(await findings(sni + meshConfig('enableAutoMtls: false'))).toEqual(['KIA0105 a/p spec.rules[0].when[0]']);
    // A workload-level STRICT policy whose selector the policy's selector satisfies settles it.
    const selected = ap('a', 'p', '{ selector: { matchLabels: { app: web, tier: front } }, rules: [{ when: [{ key: connection.sni, values: [x] }] }] }');
    expect(await findings(selected + pa('a', 'ns', '{ mtls: { mode: DISABLE } }') + pa('a', 'web', '{ selector: { matchLabels: { app: web } }, mtls: { mode: STRICT } }'))).toEqual([]);
  });

  it('KIA0207 goes quiet when the namespace\'s own policy is PERMISSIVE, and KIA0208 comes from a STRICT mesh', async () => {
    const plain = dr('a', 'plain', '{ host: "*.a.svc.cluster.local", trafficPolicy: { tls: { mode: DISABLE } } }');
    expect(await findings(plain + pa('a', 'ns', '{ mtls: { mode: PERMISSIVE } }') + pa('istio-system', 'mesh', '{ mtls: { mode: STRICT } }'))).toEqual([]);
    expect(await findings(plain + pa('istio-system', 'mesh', '{ mtls: { mode: STRICT } }'))).toEqual(['KIA0208 a/plain spec.trafficPolicy.tls.mode']);
  });
});

describe('references against the inventory', () => {
  it('KIA0004: a root-namespace AuthorizationPolicy selects workloads of every namespace', async () => {
    const rootPolicy = ap('istio-system', 'p', '{ selector: { matchLabels: { app: web } }, rules: [{ to: [{ operation: { paths: ["/x"] } }] }] }');
    expect(await findings(deployment('shop', 'web', '{ app: web }') + rootPolicy)).toEqual([]);
    expect(await findings(deployment('shop', 'web', '{ app: web }') + ap('other', 'p', '{ selector: { matchLabels: { app: web } }, rules: [{ to: [{ operation: { paths: ["/x"] } }] }] }')))
      .toEqual(['KIA0004 other/p spec.selector.matchLabels']);
  });

  it('KIA0209 is information only when another subset of the rule selects workloads', async () => {
    const service = obj('v1', 'Service', 'a', 'web', '{ selector: { app: web } }');
    const dir = await mkdtemp(join(tmpdir(), 'idgate-validate-cond-'));
    temps.push(dir);
    await writeFile(join(dir, 'set.yaml'), service + deployment('a', 'web', '{ app: web, version: v1 }') + dr('a', 'web', '{ host: web, subsets: [{ name: v1, labels: { version: v1 } }, { name: all }] }'));
    const report = await validateSources([dir], { offline: true });
    expect(report.findings.map((f) => `${f.code} ${f.severity} ${f.path}`)).toEqual(['KIA0209 info spec.subsets[1]']);
  });
});

describe("idgate's own checks", () => {
  it('IDG0203: a root-namespace rule shadows a namespace rule of the same action; a narrower selector does not', async () => {
    const broad = ap('istio-system', 'broad', '{ rules: [{ to: [{ operation: { paths: ["/public/*"] } }] }] }');
    const narrow = ap('a', 'narrow', '{ selector: { matchLabels: { app: web } }, rules: [{ to: [{ operation: { paths: ["/public/css/*"], methods: [GET] } }] }] }');
    expect(await findings(broad + narrow)).toEqual(['IDG0203 a/narrow spec.rules[0]']);
    const selectorOnly = ap('a', 'selected', '{ selector: { matchLabels: { app: web } }, rules: [{ to: [{ operation: { paths: ["/public/*"] } }] }] }');
    const everyone = ap('a', 'everyone', '{ rules: [{ to: [{ operation: { paths: ["/public/css/*"] } }] }] }');
    expect(await findings(selectorOnly + everyone)).toEqual([]);
    // A DENY rule never shadows an ALLOW one.
    expect(await findings(ap('a', 'deny', '{ action: DENY, rules: [{ to: [{ operation: { paths: ["/public/*"] } }] }] }') + everyone)).toEqual([]);
  });

  it('IDG0301: silent under STRICT; says which way plaintext traffic goes for DENY', async () => {
    const deny = ap('a', 'deny', '{ action: DENY, rules: [{ from: [{ source: { principals: ["cluster.local/ns/a/sa/bad"] } }] }] }');
    expect(await findings(deny + pa('a', 'strict', '{ mtls: { mode: STRICT } }'))).toEqual([]);
    const dir = await mkdtemp(join(tmpdir(), 'idgate-validate-cond-'));
    temps.push(dir);
    await writeFile(join(dir, 'set.yaml'), deny);
    const [finding] = (await validateSources([dir], { offline: true })).findings;
    expect(finding).toMatchObject({ code: 'IDG0301', message: expect.stringContaining('plaintext traffic escapes this DENY') });
  });

  it('IDG0401 follows the filter\'s path normalization', async () => {
    const merged = ap('a', 'p', '{ action: DENY, rules: [{ to: [{ operation: { paths: ["/api//admin"] } }] }] }');
    expect(await findings(merged)).toEqual([]);
    expect(await findings(merged, { pathNormalization: 'MERGE_SLASHES' })).toEqual(['IDG0401 a/p spec.rules[0].to[0].operation.paths[0]']);
  });

  it('reads kind: List, v1beta1, and takes the root namespace from the mesh config', async () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: security.istio.io/v1beta1\n  kind: PeerAuthentication\n  metadata: { name: m, namespace: mesh-root }\n  spec: { mtls: { mode: STRICT } }\n`;
    const policy = ap('a', 'p', '{ rules: [{ from: [{ source: { principals: ["*"] } }] }] }');
    // mesh-root is only the root namespace when the mesh config says so: then its STRICT covers namespace a.
    expect(await findings(list + policy)).toEqual(['IDG0301 a/p spec.rules[0].from[0].source.principals']);
    expect(await findings(list + policy + meshConfig('rootNamespace: mesh-root'))).toEqual([]);
    // --root-namespace wins over the mesh config.
    expect(await findings(list + policy + meshConfig('rootNamespace: mesh-root'), { rootNamespace: 'istio-system' })).toEqual(['IDG0301 a/p spec.rules[0].from[0].source.principals']);
  });

  it('passes over documents of kinds it does not read, and says how many', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-validate-cond-'));
    temps.push(dir);
    const other = (kind: string, name: string) => obj('networking.istio.io/v1', kind, 'a', name, '{ hosts: [web] }');
    await writeFile(join(dir, 'set.yaml'), other('VirtualService', 'one') + other('VirtualService', 'two') + other('Gateway', 'gw'));
    const report = await validateSources([dir], { offline: true });
    expect(report.findings).toEqual([]);
    expect(report.ignored).toEqual(new Map([['VirtualService (networking.istio.io/v1)', 2], ['Gateway (networking.istio.io/v1)', 1]]));
    expect(formatText(report)).toContain('note: not read: 2 VirtualService (networking.istio.io/v1), 1 Gateway (networking.istio.io/v1)\n');
  });
});

describe('the reasoning underneath', () => {
  const rule = (operation: string, when?: string) => JSON.parse(`{ "to": [{ "operation": ${operation} }]${when ? `, "when": ${when}` : ''} }`) as Parameters<typeof ruleCovers>[0];

  it('covers with Istio patterns, narrows negations, and stays conservative elsewhere', () => {
    expect(ruleCovers(rule('{ "paths": ["/api/*"] }'), rule('{ "paths": ["/api/v1/*", "/api/x"] }'))).toBe(true);
    expect(ruleCovers(rule('{ "paths": ["/api/*"] }'), rule('{ "paths": ["/apix", "/other"] }'))).toBe(false);
    expect(ruleCovers(rule('{ "hosts": ["*.Example.com"] }'), rule('{ "hosts": ["api.example.COM"] }'))).toBe(true);
    expect(ruleCovers(rule('{ "notPaths": ["/admin"] }'), rule('{ "paths": ["/x"] }'))).toBe(false);
    expect(ruleCovers(rule('{ "paths": ["/x"] }', '[{ "key": "request.headers[a]", "values": ["1", "2"] }]'), rule('{ "paths": ["/x"] }', '[{ "key": "request.headers[a]", "values": ["1"] }]'))).toBe(true);
    expect(ruleCovers(rule('{ "paths": ["/x/{*}"] }'), rule('{ "paths": ["/x/y"] }'))).toBe(false);
  });

  it('finds the path patterns no normalized path matches', () => {
    const base = { normalization: 'BASE', escapedSlashes: 'KEEP_UNCHANGED', rawTarget: false } as const;
    expect(unreachablePath('/api/.well-known', base)).toBeUndefined();
    expect(unreachablePath('/api/.*', base)).toBeUndefined();
    expect(unreachablePath('/a/./b', base)).toMatch(/matched as "\/a\/b"/);
    expect(unreachablePath('/a%7Eb', base)).toMatch(/matched as "\/a~b"/);
    expect(unreachablePath('api/x', base)).toMatch(/refused/);
    expect(unreachablePath('/x?y=1', base)).toMatch(/matched as "\/x"/);
    expect(unreachablePath('*/../x', base)).toBeDefined();
    expect(unreachablePath('/a%2Fb', { ...base, normalization: 'DECODE_AND_MERGE_SLASHES', escapedSlashes: 'UNESCAPE_AND_FORWARD' })).toMatch(/matched as "\/a\/b"/);
    expect(unreachablePath('/a/{**}', base)).toBeUndefined();
  });
});
