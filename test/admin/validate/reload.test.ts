/**
 * The checks of `idgate validate` that need the policy files alone run on every load and reload in
 * serve: a warning is logged (with its code, file, line, object and path) and counted in
 * idgate_filter_policy_findings_total{code,severity}, and the set is applied; an error-level finding
 * refuses the new set like an invalid policy, and the previous one keeps deciding.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFilter } from '../../../src/authz/index.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { startFilterFixture, type FilterFixture } from '../../authz/helpers/filter-fixture.js';

const allow = (path: string, name = 'web') =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: default }\nspec: { rules: [{ to: [{ operation: { paths: ["${path}"] } }] }] }\n`;
const namespaceWide = (name: string) =>
  `---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: ${name}, namespace: default }\nspec: { mtls: { mode: PERMISSIVE } }\n`;
/** IDG0301: a principal where mTLS is PERMISSIVE (the default). */
const principalRule = `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: from-checkout, namespace: default }\nspec:\n  rules:\n  - from: [{ source: { principals: ["cluster.local/ns/default/sa/checkout"] } }]\n`;

async function decide(filter: RunningFilter, path: string): Promise<string> {
  const result = await filter.check({ transport: 'grpc', requestId: 'r', method: 'GET', host: 'app.example.com', path, scheme: 'http', headers: {} });
  return `${result.status} ${result.reason}`;
}

async function counted(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name) as Counter | undefined;
  const values = metric ? (await metric.get()).values : [];
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

describe('validate checks on policy reload', () => {
  let fixture: FilterFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('refuses a set with an error-level finding (KIA0002) and keeps the previous one', async () => {
    const { logger, lines } = capturedLogger();
    fixture = await startFilterFixture({ 'web.yaml': allow('/v1') }, {}, { logger });
    await writeFile(join(fixture.dir, 'web.yaml'), allow('/v2') + namespaceWide('one') + namespaceWide('two'));
    const reload = await fixture.filter.reload('api');
    expect(reload.result).toBe('error');
    expect(reload.problems).toEqual([
      expect.stringMatching(/^error: .*web\.yaml#1 \(PeerAuthentication default\/one\): spec\.selector: More than one selector-less PeerAuthentication in namespace "default" .*\(KIA0002\)$/),
      expect.stringMatching(/^error: .*web\.yaml#2 \(PeerAuthentication default\/two\): spec\.selector: .*\(KIA0002\)$/),
    ]);
    expect(await decide(fixture.filter, '/v1')).toBe('200 allowed');
    expect(await decide(fixture.filter, '/v2')).toBe('403 no_allow_match');
    expect(await counted(fixture.registry, 'idgate_filter_policy_findings_total', { code: 'KIA0002', severity: 'error' })).toBe(2);
    expect(await counted(fixture.registry, 'idgate_filter_policy_reloads_total', { trigger: 'api', result: 'error' })).toBe(1);
    const logged = lines.filter((l) => l.finding === 'KIA0002');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: 'error', severity: 'error', trigger: 'api', resource: 'PeerAuthentication default/one', path: 'spec.selector' });
    expect(lines.some((l) => l.msg === 'policy reload refused; keeping the previous policies')).toBe(true);
  });

  it('applies a set with warnings, and logs and counts each of them', async () => {
    const { logger, lines } = capturedLogger();
    fixture = await startFilterFixture({ 'web.yaml': allow('/v1') }, {}, { logger });
    expect(await counted(fixture.registry, 'idgate_filter_policy_findings_total', { code: 'IDG0301', severity: 'warning' })).toBe(0);
    await writeFile(join(fixture.dir, 'web.yaml'), allow('/v2') + principalRule);
    expect((await fixture.filter.reload('api')).result).toBe('ok');
    expect(await decide(fixture.filter, '/v2')).toBe('200 allowed');
    expect(await counted(fixture.registry, 'idgate_filter_policy_findings_total', { code: 'IDG0301', severity: 'warning' })).toBe(1);
    const warning = lines.find((l) => l.finding === 'IDG0301');
    expect(warning).toMatchObject({
      level: 'warn', trigger: 'api', severity: 'warning', line: 11, resource: 'AuthorizationPolicy default/from-checkout',
      path: 'spec.rules[0].from[0].source.principals', value: 'cluster.local/ns/default/sa/checkout',
    });
    expect(String(warning!.msg)).toMatch(/^IDG0301: needs a peer identity, but mTLS is PERMISSIVE/);
    expect(lines.some((l) => l.msg === 'policies reloaded')).toBe(true);
  });

  it('counts the loader\'s own coded problems (KIA0102) and info findings (IDG0202) too', async () => {
    const methods = `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: m, namespace: default }\nspec: { rules: [{ to: [{ operation: { methods: [fetch] } }] }] }\n`;
    const denyAll = `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: nothing, namespace: other }\nspec: {}\n`;
    fixture = await startFilterFixture({ 'web.yaml': allow('/v1') + methods + denyAll });
    expect(await counted(fixture.registry, 'idgate_filter_policy_findings_total', { code: 'KIA0102', severity: 'warning' })).toBe(1);
    expect(await counted(fixture.registry, 'idgate_filter_policy_findings_total', { code: 'IDG0202', severity: 'info' })).toBe(1);
    expect(await decide(fixture.filter, '/v1')).toBe('200 allowed');
  });

  it('refuses to start on an error-level finding', async () => {
    await expect(startFilterFixture({ 'web.yaml': allow('/v1') + namespaceWide('one') + namespaceWide('two') })).rejects.toMatchObject({
      code: 'ERR_POLICY_INVALID',
      message: expect.stringContaining('(KIA0002)'),
    });
  });
});
