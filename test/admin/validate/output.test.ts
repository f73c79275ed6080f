/**
 * idgate validate's three outputs over one set with an error, a warning and an info finding and some
 * skipped checks: readable text (file:line, code, object, path, message, value), JSON Lines with the
 * documented keys, and a SARIF 2.1.0 log that the SARIF 2.1.0 JSON schema (the one
 * @microsoft/sarif-multitool ships) accepts, checked with a real validator (ajv, JSON Schema 2020-12,
 * with formats).
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatJsonLines } from '../../../src/admin/validate/format/json.js';
import { formatSarif } from '../../../src/admin/validate/format/sarif.js';
import { formatText } from '../../../src/admin/validate/format/text.js';
import { validateSources, type ValidationReport } from '../../../src/admin/validate/validate-sources.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const POLICIES = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: one, namespace: a }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: two, namespace: a }
spec: { mtls: { mode: STRICT } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: methods, namespace: a }
spec:
  rules:
  - to:
    - operation:
        methods: [GET, fetch]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-all, namespace: a }
spec: {}
`;

let dir: string;
let file: string;
let report: ValidationReport;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idgate-validate-out-'));
  file = join(dir, 'shop policies.yaml');
  await writeFile(file, POLICIES);
  report = await validateSources([dir], { offline: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('text output', () => {
  it('gives file:line, severity, code, object, field path, message and value, then a summary and the skipped checks', () => {
    const lines = formatText(report).trimEnd().split('\n');
    expect(lines).toEqual([
      `${file}:4: error KIA0002 PeerAuthentication a/one spec.selector: More than one selector-less PeerAuthentication in namespace "a" (Istio uses the oldest) [with PeerAuthentication a/two]`,
      `${file}:9: error KIA0002 PeerAuthentication a/two spec.selector: More than one selector-less PeerAuthentication in namespace "a" (Istio uses the oldest) [with PeerAuthentication a/one]`,
      `${file}:18: warning KIA0102 AuthorizationPolicy a/methods spec.rules[0].to[0].operation.methods[1]: Only HTTP methods and Istio wildcards are allowed`,
      `${file}:23: info IDG0202 AuthorizationPolicy a/deny-all spec: an ALLOW policy with no rules matches no request: every request to the workloads it selects is denied unless another ALLOW policy allows it`,
      '1 file(s), 4 object(s): 2 error(s), 1 warning(s), 1 info',
      'note: skipped KIA0101: no Namespace documents given',
      'note: skipped KIA0003, KIA0004, KIA0203: no Deployment/StatefulSet/DaemonSet/ReplicaSet/Pod documents given',
      'note: skipped KIA0106, KIA0108: no ServiceAccount or workload documents given',
      'note: skipped KIA0104, KIA0202, KIA0203: no Service documents given',
      'note: skipped IDG0101: --offline',
      'note: skipped IDG0104: no --config (audiences are checked against its staticClients)',
    ]);
  });
});

describe('json output', () => {
  it('is one JSON object per finding, per line, with code, severity, file, line, kind, name, namespace, path and message', () => {
    const objects = formatJsonLines(report.findings).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects).toHaveLength(4);
    expect(Object.keys(objects[2]!)).toEqual(['code', 'severity', 'file', 'line', 'document', 'kind', 'name', 'namespace', 'path', 'message']);
    expect(objects[2]).toEqual({
      code: 'KIA0102', severity: 'warning', file, line: 18, document: 2, kind: 'AuthorizationPolicy', name: 'methods', namespace: 'a',
      path: 'spec.rules[0].to[0].operation.methods[1]', message: 'Only HTTP methods and Istio wildcards are allowed',
    });
    expect(objects[0]).toMatchObject({ code: 'KIA0002', severity: 'error', references: ['PeerAuthentication a/two'] });
  });

  it('prints nothing for a clean set', () => {
    expect(formatJsonLines([])).toBe('');
  });
});

describe('sarif output', () => {
  const schemaFile = createRequire(import.meta.url).resolve('@microsoft/sarif-multitool-linux/sarif-2.1.0.json');

  it('validates against the SARIF 2.1.0 JSON schema', async () => {
    const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as Record<string, unknown>;
    expect(schema.title).toBe('Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema');
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    const validate = ajv.compile(schema);
    for (const log of [formatSarif(report, { toolVersion: '0.1.0' }), formatSarif(report, { cwd: dir }), formatSarif({ ...report, findings: [], skipped: [] })]) {
      const ok = validate(JSON.parse(log));
      expect(validate.errors ?? [], 'schema errors').toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it('rejects a log that breaks the schema (the validator is really checking)', async () => {
    const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as Record<string, unknown>;
    const validate = addFormats(new Ajv2020({ strict: false })).compile(schema);
    const log = JSON.parse(formatSarif(report)) as { runs: Array<{ results: Array<Record<string, unknown>> }> };
    log.runs[0]!.results[0]!.level = 'fatal';
    expect(validate(log)).toBe(false);
  });

  it('has a rule per code, a result per finding at its file and line, info as "note", skipped checks as notifications', () => {
    const log = JSON.parse(formatSarif(report, { cwd: dir })) as {
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string }> } };
        results: Array<{ ruleId: string; ruleIndex: number; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } }; logicalLocations: Array<{ fullyQualifiedName: string }> }> }>;
        invocations: Array<{ toolExecutionNotifications: Array<{ message: { text: string } }> }>;
      }>;
    };
    const [run] = log.runs;
    expect(run!.tool.driver.rules.map((r) => r.id)).toContain('KIA0506');
    expect(run!.results.map((r) => [r.ruleId, r.level, run!.tool.driver.rules[r.ruleIndex]!.id])).toEqual([
      ['KIA0002', 'error', 'KIA0002'], ['KIA0002', 'error', 'KIA0002'], ['KIA0102', 'warning', 'KIA0102'], ['IDG0202', 'note', 'IDG0202'],
    ]);
    expect(run!.results[2]!.locations[0]!.physicalLocation).toEqual({ artifactLocation: { uri: 'shop%20policies.yaml' }, region: { startLine: 18 } });
    expect(run!.results[2]!.locations[0]!.logicalLocations[0]!.fullyQualifiedName).toBe('AuthorizationPolicy a/methods');
    expect(run!.invocations[0]!.toolExecutionNotifications.map((n) => n.message.text)).toContain('skipped IDG0101: --offline');
    // Outside the working directory, a file is named by its file: URL.
    const outside = JSON.parse(formatSarif(report, { cwd: '/nonexistent-cwd' })) as typeof log;
    expect(outside.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(`file://${dir}/shop%20policies.yaml`);
  });
});
