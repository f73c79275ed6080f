/**
 * The single-sqlite overlay run for real, as kubelet would lay it out: its config ConfigMap and its
 * policies ConfigMap written as ConfigMap volumes (only the listen addresses and the data paths moved
 * into a temp dir), `idgate serve`'s startServer on them, `idgate health` with the mounted config; then
 * the policies ConfigMap updated (kubelet's ..data swap) and the running filter deciding with the new
 * set, without a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { main } from '../../src/cli.js';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { httpCheck } from '../authz/helpers/http-client.js';
import { writeConfigMapVolume } from '../helpers/configmap-volume.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';
import { idgatePods, type IdgatePod } from './idgate-pods.js';
import { KUSTOMIZE_OVERLAYS, named, renderKustomize } from './render.js';

/** An ALLOW policy for anonymous requests under /public, in the root namespace as the example's. */
const PUBLIC_POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: public, namespace: istio-system }
spec:
  action: ALLOW
  rules: [{ to: [{ operation: { paths: ["/public/*"] } }] }]
`;

describe('the single-sqlite overlay, served from its ConfigMap volumes', () => {
  let dir: string;
  let pod: IdgatePod;
  let policiesDir: string;
  let policies: Record<string, string>;
  let configFile: string;
  let server: RunningServer;
  let filterPort: number;
  const env = { EXAMPLE_APP_SECRET: 'example-app-secret', CORPORATE_SSO_CLIENT_SECRET: 'corporate-sso-secret' };

  beforeAll(async () => {
    const objects = await renderKustomize(KUSTOMIZE_OVERLAYS.single);
    [pod] = idgatePods(objects) as [IdgatePod];
    const volume = pod.spec.volumes!.find((v) => v.name === 'policies')!;
    policies = named(objects, 'ConfigMap', volume.configMap!.name).data!;

    dir = await mkdtemp(join(tmpdir(), 'idgate-deploy-run-'));
    policiesDir = join(dir, 'policies');
    await writeConfigMapVolume(policiesDir, policies);

    // The rendered config, with only what a test cannot use moved: ports, the PVC and the mount paths.
    const document = parseDocument(pod.configText);
    const ports = { web: await freePort(), telemetry: await freePort(), grpc: await freePort(), http: await freePort() };
    filterPort = ports.http;
    document.setIn(['web', 'http'], `127.0.0.1:${ports.web}`);
    document.setIn(['telemetry', 'http'], `127.0.0.1:${ports.telemetry}`);
    document.setIn(['filter', 'grpc'], `127.0.0.1:${ports.grpc}`);
    document.setIn(['filter', 'http'], `127.0.0.1:${ports.http}`);
    document.setIn(['storage', 'config', 'file'], join(dir, 'data', 'idgate.db'));
    document.setIn(['filter', 'policies'], [policiesDir]);
    const configDir = join(dir, 'config');
    await writeConfigMapVolume(configDir, { 'config.yaml': document.toString() });
    configFile = join(configDir, 'config.yaml');

    server = await startServer(parseConfig(document.toString(), configFile, env), { logger: silentLogger() });
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts, and `idgate health` with the mounted config finds it ready', async () => {
    let stdout = '';
    const io = { stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stdout += text) };
    const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
    Object.assign(process.env, env); // idgate health loads the config as the container's environment would
    try {
      expect(await main(['health', '--config', configFile], io)).toBe(0);
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    expect(stdout).toMatch(/\/healthz\/ready: ready \(storage, filter ok\)\n$/);
  });

  it("denies an anonymous request with the ConfigMap's policies, and follows an update of the ConfigMap", async () => {
    const anonymous = async () => (await httpCheck(filterPort, 'envoy-http', { path: '/public/page', host: 'app.example.com' })).status;
    expect(await anonymous()).toBe(403);
    await writeConfigMapVolume(policiesDir, { ...policies, 'public.yaml': PUBLIC_POLICY });
    await until(anonymous, 200);
    // Taken out again: denied again.
    await writeConfigMapVolume(policiesDir, policies);
    await until(anonymous, 403);
  });
});
