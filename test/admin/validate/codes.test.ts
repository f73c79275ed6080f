/**
 * idgate validate, code by code: each fixture of CODE_CASES makes exactly its code appear, on exactly
 * the objects it names, and nothing else; every code has a fixture; the clean fixture set (policies
 * with a full inventory and a config) has no finding at all.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODES } from '../../../src/admin/validate/codes.js';
import { validateSources } from '../../../src/admin/validate/validate-sources.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { CODE_CASES, RSA_JWKS } from './fixtures/code-cases.js';

const FIXTURES = 'test/admin/validate/fixtures';
let server: Server;
let base: string;
const temps: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const discovery = req.url === '/issuer/.well-known/openid-configuration' ? JSON.stringify({ issuer: `${base}/issuer`, jwks_uri: `${base}/good` }) : undefined;
    const body = req.url === '/hmac-only' ? '{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}' : req.url === '/good' ? RSA_JWKS : discovery;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function fixtureDir(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-validate-'));
  temps.push(dir);
  await writeFile(join(dir, 'case.yaml'), yaml.replaceAll('{{JWKS}}', base));
  return dir;
}

describe('idgate validate: one fixture per code', () => {
  it.each(CODE_CASES.map((c) => [`${c.code}${c.variant ? ` (${c.variant})` : ''}`, c] as const))('%s: exactly that finding on exactly that object', async (_name, c) => {
    const dir = await fixtureDir(c.yaml);
    const config = c.config ? await loadConfigFile(join(FIXTURES, 'idgate.yaml')) : undefined;
    const report = await validateSources([dir], { offline: !c.online, ...(config ? { config } : {}) });
    const found = report.findings.map((f) => `${f.code} ${f.kind} ${f.namespace}/${f.name} ${f.path}`);
    expect(found).toEqual(c.expected.map((e) => `${c.code} ${e}`));
    for (const finding of report.findings) {
      expect(finding.severity, finding.message).toBe(c.code === 'KIA0104' || c.code === 'KIA0202' ? 'error' : CODES[c.code as keyof typeof CODES].severity);
      expect(finding.line, `${finding.code} has a line`).toBeGreaterThan(0);
    }
  });

  it('has a fixture for every code it can report', () => {
    expect(new Set(CODE_CASES.map((c) => c.code))).toEqual(new Set(Object.keys(CODES)));
  });

  it('reports nothing on the clean fixture set (policies, DestinationRules, a full inventory, a config), online or not', async () => {
    const config = await loadConfigFile(join(FIXTURES, 'idgate.yaml'));
    for (const offline of [true, false]) {
      const report = await validateSources([join(FIXTURES, 'clean')], { offline, config });
      expect(report.findings).toEqual([]);
      expect(report.objects).toBe(15);
      expect(report.skipped.map((s) => s.reason)).toEqual(offline ? ['--offline'] : []);
    }
  });

  it('fetches a jwksUri, or the issuer\'s discovery document and its jwks_uri, that serve usable keys without a finding', async () => {
    const dir = await fixtureDir(`apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: r, namespace: a }\nspec: { jwtRules: [{ issuer: "https://i.example", jwksUri: "{{JWKS}}/good" }, { issuer: "{{JWKS}}/issuer" }] }\n`);
    expect((await validateSources([dir], { offline: false })).findings).toEqual([]);
  });

  it('lowers KIA0104 and KIA0202 to warnings when the mesh allows any outbound traffic, as Kiali does', async () => {
    const dir = await fixtureDir([
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio, namespace: istio-system }\ndata: { mesh: "outboundTrafficPolicy: { mode: ALLOW_ANY }" }',
      'apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: a }\nspec: { selector: { app: web } }',
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ghost, namespace: a }\nspec: { host: ghost }',
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: a }\nspec: { rules: [{ to: [{ operation: { hosts: [ghost] } }] }] }',
    ].join('\n---\n'));
    const report = await validateSources([dir], { offline: true });
    expect(report.findings.map((f) => `${f.code} ${f.severity}`)).toEqual(['KIA0202 warning', 'KIA0104 warning']);
  });

  it('skips the checks whose inventory is missing, and says which', async () => {
    const dir = await fixtureDir(CODE_CASES.find((c) => c.code === 'KIA0106')!.yaml.replace(/apiVersion: v1\nkind: ServiceAccount[^]*?\n---/, '---'));
    const report = await validateSources([dir], { offline: true });
    expect(report.findings).toEqual([]);
    expect(report.skipped).toContainEqual({ codes: ['KIA0106', 'KIA0108'], reason: 'no ServiceAccount or workload documents given' });
  });
});
