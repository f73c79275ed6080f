/**
 * Policy reloads: a running filter follows its policy files however they are changed — written in
 * place, renamed over (again and again), swapped as a Kubernetes ConfigMap, a directory replaced,
 * found by the periodic rescan when no event comes, reloaded on demand (server.reload(), SIGHUP to
 * `idgate serve`) — and keeps its policies when the new ones are invalid. Every load is logged and
 * counted with its trigger; a rescan that finds nothing changed is neither.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Counter, Registry } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunningFilter } from '../../src/authz/index.js';
import { loadPolicyFiles } from '../../src/authz/policy/load.js';
import { parseConfig } from '../../src/config/load.js';
import { startServer } from '../../src/server.js';
import { createLogger, silentLogger } from '../../src/telemetry/logger.js';
import { writeConfigMapVolume } from '../helpers/configmap-volume.js';
import { until } from '../helpers/until.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { httpCheck } from './helpers/http-client.js';
import { freePort } from './helpers/nginx.js';

/** An ALLOW policy `default/<name>` for one path: which version is in force shows in the decision. */
const allow = (path: string, name = 'web') =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: default }\nspec: { rules: [{ to: [{ operation: { paths: ["${path}"] } }] }] }\n`;
const INVALID = allow('/v{id}'); // an invalid path template

async function decide(filter: RunningFilter, path: string): Promise<string> {
  const result = await filter.check({ transport: 'grpc', requestId: 'r', method: 'GET', host: 'app.example.com', path, scheme: 'http', headers: {} });
  return `${result.status} ${result.reason}${result.policy ? ` ${result.policy}` : ''}`;
}

async function reloads(registry: Registry, trigger: string, result: string): Promise<number> {
  const metric = registry.getSingleMetric('idgate_filter_policy_reloads_total') as Counter | undefined;
  const values = metric ? (await metric.get()).values : [];
  return values.find((v) => v.labels.trigger === trigger && v.labels.result === result)?.value ?? 0;
}

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines, count: (msg: string) => lines.filter((l) => l.msg === msg).length };
}

/** What editors and `kubectl cp` do: write a temp file beside the target, rename it over the target. */
async function replaceAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.tmp`);
  await writeFile(temp, text);
  await rename(temp, file);
}

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-reload-'));
  temps.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('loading a ConfigMap volume', () => {
  it('reads each key once, through its top-level symlink, and skips ..data, ..<timestamp> and dot files', async () => {
    const dir = await tempDir();
    await writeConfigMapVolume(dir, { 'web.yaml': allow('/web'), 'shop.yaml': allow('/shop', 'shop') });
    await writeFile(join(dir, '.web.yaml.swp'), 'not: [yaml'); // an editor's swap file
    await symlink('.', join(dir, 'loop')); // a symlink loop is walked once
    const loaded = await loadPolicyFiles([dir], { rootNamespace: 'istio-system' });
    expect(loaded.problems).toEqual([]);
    expect(loaded.files).toEqual([join(dir, 'shop.yaml'), join(dir, 'web.yaml')]);
    expect(loaded.resources.map((r) => `${r.namespace}/${r.name}`)).toEqual(['default/shop', 'default/web']);
  });
});

describe('hot reload', () => {
  let fixture: FilterFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  // watchInterval 0s: no rescan, so only the watcher can see these changes.
  const watching = (policies?: string[]) => ({ watch: true, watchInterval: '0s', ...(policies ? { policies } : {}) });

  it('follows a write in place', async () => {
    fixture = await startFilterFixture({ 'web.yaml': allow('/v1') }, watching());
    expect(await decide(fixture.filter, '/v1')).toBe('200 allowed default/web');
    await writeFile(join(fixture.dir, 'web.yaml'), allow('/v2'));
    await until(() => decide(fixture!.filter, '/v2'), '200 allowed default/web');
    expect(await decide(fixture.filter, '/v1')).toBe('403 no_allow_match');
    expect(await reloads(fixture.registry, 'startup', 'ok')).toBe(1);
    expect(await reloads(fixture.registry, 'watch', 'ok')).toBeGreaterThanOrEqual(1);
  });

  it.each(['in a policy directory', 'named in filter.policies'])('follows a file renamed over it, again and again (%s)', async (where) => {
    const dir = await tempDir();
    const file = join(dir, 'web.yaml');
    await writeFile(file, allow('/v1'));
    fixture = await startFilterFixture({}, watching([where === 'in a policy directory' ? dir : file]));
    for (const version of [2, 3, 4]) {
      await replaceAtomically(file, allow(`/v${version}`));
      await until(() => decide(fixture!.filter, `/v${version}`), '200 allowed default/web');
      expect(await decide(fixture.filter, `/v${version - 1}`)).toBe('403 no_allow_match');
    }
    expect(await reloads(fixture.registry, 'watch', 'ok')).toBeGreaterThanOrEqual(3);
  });

  it('follows ConfigMap updates (the ..data symlink swapped), again and again', async () => {
    const dir = await tempDir();
    await writeConfigMapVolume(dir, { 'web.yaml': allow('/v1') });
    fixture = await startFilterFixture({}, watching([dir]));
    expect(await decide(fixture.filter, '/v1')).toBe('200 allowed default/web');
    for (const version of [2, 3, 4]) {
      await writeConfigMapVolume(dir, { 'web.yaml': allow(`/v${version}`) });
      await until(() => decide(fixture!.filter, `/v${version}`), '200 allowed default/web');
      expect(await decide(fixture.filter, `/v${version - 1}`)).toBe('403 no_allow_match');
    }
  });

  it('follows a policy directory replaced by another', async () => {
    const root = await tempDir();
    const dir = join(root, 'policies');
    await mkdir(dir);
    await writeFile(join(dir, 'web.yaml'), allow('/v1'));
    fixture = await startFilterFixture({}, watching([dir]));
    for (const version of [2, 3]) {
      await mkdir(`${dir}.new`);
      await writeFile(join(`${dir}.new`, 'web.yaml'), allow(`/v${version}`));
      await rename(dir, `${dir}.old`);
      await rename(`${dir}.new`, dir);
      await rm(`${dir}.old`, { recursive: true });
      await until(() => decide(fixture!.filter, `/v${version}`), '200 allowed default/web');
    }
  });

  it('rescans every watchInterval when no event comes, and counts only the rescans that found a change', async () => {
    // The policy file is a symlink into a directory nobody watches: a change there sends no event.
    const root = await tempDir();
    await mkdir(join(root, 'elsewhere'));
    await mkdir(join(root, 'policies'));
    await writeFile(join(root, 'elsewhere', 'web.yaml'), allow('/v1'));
    await symlink(join(root, 'elsewhere', 'web.yaml'), join(root, 'policies', 'web.yaml'));
    const log = capturedLogger();
    fixture = await startFilterFixture({}, { watch: true, watchInterval: '50ms', policies: [join(root, 'policies')] }, { logger: log.logger });
    expect(await decide(fixture.filter, '/v1')).toBe('200 allowed default/web');

    await replaceAtomically(join(root, 'elsewhere', 'web.yaml'), allow('/v2'));
    await until(() => decide(fixture!.filter, '/v2'), '200 allowed default/web');
    expect(await reloads(fixture.registry, 'rescan', 'ok')).toBe(1);
    expect(await reloads(fixture.registry, 'watch', 'ok')).toBe(0);

    // An invalid file is refused once, not again on every rescan while it stays as it is.
    await replaceAtomically(join(root, 'elsewhere', 'web.yaml'), INVALID);
    await until(() => reloads(fixture!.registry, 'rescan', 'error'), 1);
    const unchanged = log.count('policy files unchanged');
    await until(async () => log.count('policy files unchanged') >= unchanged + 3, true);
    expect(await reloads(fixture.registry, 'rescan', 'error')).toBe(1);
    expect(await reloads(fixture.registry, 'rescan', 'ok')).toBe(1);
    expect(await decide(fixture.filter, '/v2')).toBe('200 allowed default/web');
  });

  it('keeps the previous policies when the new ones are invalid, and logs and counts the refusal with its trigger', async () => {
    const log = capturedLogger();
    fixture = await startFilterFixture({ 'web.yaml': allow('/v1') }, watching(), { logger: log.logger });
    await replaceAtomically(join(fixture.dir, 'web.yaml'), INVALID);
    await until(() => reloads(fixture!.registry, 'watch', 'error'), 1);
    expect(await decide(fixture.filter, '/v1')).toBe('200 allowed default/web');
    const refused = log.lines.find((l) => l.msg === 'policy reload refused; keeping the previous policies');
    expect(refused).toMatchObject({ level: 'error', trigger: 'watch', errorCode: 'ERR_POLICY_INVALID' });
    expect(refused?.problems).toEqual([expect.stringContaining('web.yaml#0 (AuthorizationPolicy default/web): spec.rules[0].to[0].operation.paths[0]: invalid path template "/v{id}"')]);

    await replaceAtomically(join(fixture.dir, 'web.yaml'), allow('/v2'));
    await until(() => decide(fixture!.filter, '/v2'), '200 allowed default/web');
    expect(log.lines.find((l) => l.msg === 'policies reloaded')).toMatchObject({ level: 'info', trigger: 'watch', policies: 1, files: 1 });
    expect(log.lines.find((l) => l.msg === 'policies loaded')).toMatchObject({ trigger: 'startup', policies: 1 });
  });
});

describe('reload on demand', () => {
  const serverConfig = (dir: string, extra = '') => `issuer: http://127.0.0.1:1/dex
storage: { type: memory }
${extra}filter:
  http: 127.0.0.1:0
  policies: [${JSON.stringify(dir)}]
  watch: false
  audit: { enabled: false }
`;

  it("server.reload() reloads the filter's policies and says how it went", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'web.yaml'), allow('/v1'));
    const server = await startServer(parseConfig(serverConfig(dir)), { logger: silentLogger(), listen: { telemetry: '127.0.0.1:0' } });
    try {
      const port = Number(new URL(server.urls.filterHttp!).port);
      expect((await httpCheck(port, 'nginx', { path: '/v2' })).status).toBe(403);
      await writeFile(join(dir, 'web.yaml'), allow('/v2'));
      expect(await server.reload()).toEqual({ filter: { trigger: 'api', result: 'ok', policies: 1 } });
      expect((await httpCheck(port, 'nginx', { path: '/v2' })).status).toBe(200);

      await writeFile(join(dir, 'web.yaml'), INVALID);
      const refused = await server.reload('signal');
      expect(refused.filter).toMatchObject({ trigger: 'signal', result: 'error', problems: [expect.stringContaining('invalid path template')] });
      expect((await httpCheck(port, 'nginx', { path: '/v2' })).status).toBe(200);
      const metrics = await (await fetch(`${server.urls.telemetry}/metrics`)).text();
      expect(metrics).toContain('idgate_filter_policy_reloads_total{trigger="startup",result="ok"} 1');
      expect(metrics).toContain('idgate_filter_policy_reloads_total{trigger="api",result="ok"} 1');
      expect(metrics).toContain('idgate_filter_policy_reloads_total{trigger="signal",result="error"} 1');
    } finally {
      await server.close();
    }
  });

  it('idgate serve reloads the policies on SIGHUP', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'policies'));
    await writeFile(join(dir, 'policies', 'web.yaml'), allow('/v1'));
    const [telemetry, filterPort] = [await freePort(), await freePort()];
    const file = join(dir, 'idgate.yaml');
    await writeFile(file, serverConfig(join(dir, 'policies'), `telemetry: { http: "127.0.0.1:${telemetry}" }\n`).replace('127.0.0.1:0', `127.0.0.1:${filterPort}`));
    // As test/cli.test.ts does: run src/cli.ts's main under tsx, as bin/idgate.js runs the built one.
    const runCli = "const { main } = await import('./src/cli.ts'); process.exitCode = await main(process.argv.slice(1));";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runCli, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const status = (path: string) => httpCheck(filterPort, 'nginx', { path }).then((r) => r.status, () => 0);
    try {
      await until(() => status('/v1'), 200, 40_000);
      await writeFile(join(dir, 'policies', 'web.yaml'), allow('/v2'));
      expect(await status('/v2')).toBe(403); // watch is off: nothing reloads by itself
      child.kill('SIGHUP');
      await until(() => status('/v2'), 200);
      const metrics = await (await fetch(`http://127.0.0.1:${telemetry}/metrics`)).text();
      expect(metrics).toContain('idgate_filter_policy_reloads_total{trigger="signal",result="ok"} 1');
      expect(output).toMatch(/"trigger":"signal".*"msg":"policies reloaded"/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
