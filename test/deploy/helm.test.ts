/**
 * The Helm chart (deploy/helm/idgate), rendered with `helm template` in both topologies and held to the
 * rules in topology-checks.ts; then compared with the kustomize overlays object by object, so the two
 * ways in deploy the same thing; and what only the chart does: ports that follow the config, the config
 * checksum that rolls the pods, a refused topology.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { idgatePods } from './idgate-pods.js';
import { HELM_CHART, KUSTOMIZE_OVERLAYS, REPO, named, renderHelm, renderKustomize, type Deployment, type K8sObject, type Service, type TopologyName } from './render.js';
import { describeTopology } from './topology-checks.js';

const version = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const topologyArgs: Record<TopologyName, string[]> = { single: [], replicas: ['--set', 'topology=replicas'] };

describeTopology('helm chart, topology=single (the default)', () => renderHelm(topologyArgs.single), { topology: 'single', image: `idgate:${version}` });
describeTopology('helm chart, topology=replicas', () => renderHelm(topologyArgs.replicas), { topology: 'replicas', image: `idgate:${version}` });

/** Only Helm's own bookkeeping differs: its labels, the release label in selectors, the config checksum. */
const HELM_ONLY_LABELS = ['app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart'];

function withoutHelmBookkeeping(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHelmBookkeeping);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !HELM_ONLY_LABELS.includes(key) && key !== 'checksum/config')
      .map(([key, item]) => [key, withoutHelmBookkeeping(item)]),
  );
}

/** Kustomize's content-hash suffix on generated ConfigMap names (`idgate-config-kh976kdf9c`). */
const unhashed = (name: string) => name.replace(/-(config)-[a-z0-9]{10}$/, '-$1');

function comparable(objects: K8sObject[]): Record<string, unknown> {
  const text = JSON.stringify(objects, (key, value: unknown) => (key === 'name' && typeof value === 'string' ? unhashed(value) : value));
  const normalized = (JSON.parse(text) as K8sObject[])
    .filter((object) => object.kind !== 'Namespace') // a chart leaves the namespace to `helm install --create-namespace`
    .map((object) => {
      const { apiVersion, kind, metadata, spec, data, ...rest } = object;
      const lines = data && Object.fromEntries(Object.entries(data).map(([key, body]) => [key, body.replace(/[ \t]+$/gm, '')]));
      return [`${kind}/${metadata.name}`, withoutHelmBookkeeping({ apiVersion, spec, data: lines, ...rest, labels: metadata.labels })];
    });
  return Object.fromEntries(normalized);
}

describe('the Helm chart and the kustomize overlays', () => {
  it.each(Object.keys(topologyArgs) as TopologyName[])('render the same objects, specs, configs and policies (topology %s)', async (topology) => {
    const [chart, overlay] = await Promise.all([renderHelm(topologyArgs[topology]), renderKustomize(KUSTOMIZE_OVERLAYS[topology])]);
    const fromChart = comparable(chart);
    const fromOverlay = comparable(overlay);
    expect(Object.keys(fromChart).sort()).toEqual(Object.keys(fromOverlay).sort());
    for (const key of Object.keys(fromOverlay)) expect(fromChart[key], key).toEqual(fromOverlay[key]);
  });

  it("run the chart's appVersion, which is this package's version", async () => {
    const chart = parse(await readFile(join(REPO, HELM_CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string; version: string };
    expect(chart.appVersion).toBe(version);
  });
});

describe('the Helm chart', () => {
  it('takes the container ports, the Service ports and the probes from the config it is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-helm-'));
    try {
      const values = parse(await readFile(join(REPO, HELM_CHART, 'values.yaml'), 'utf8')) as { single: { config: string } };
      const moved = values.single.config
        .replace('http: 0.0.0.0:5556', 'http: 0.0.0.0:8080')
        .replace('http: 0.0.0.0:5558', 'http: 0.0.0.0:9090')
        .replace('grpc: 0.0.0.0:9191', 'grpc: 0.0.0.0:50051');
      expect(moved).not.toBe(values.single.config);
      await writeFile(join(dir, 'config.yaml'), moved);
      const objects = await renderHelm(['--set-file', `single.config=${join(dir, 'config.yaml')}`]);
      const [pod] = idgatePods(objects);
      expect(Object.fromEntries((pod!.container.ports ?? []).map((p) => [p.name, p.containerPort]))).toEqual({ telemetry: 9090, http: 8080, 'grpc-authz': 50051, 'http-authz': 9192 });
      expect(pod!.deployment.spec.template.metadata.annotations?.['prometheus.io/port']).toBe('9090');
      expect(pod!.container.readinessProbe?.httpGet?.port).toBe('telemetry');
      expect(named<Service>(objects, 'Service', 'idgate').spec.ports.map((p) => p.port)).toEqual([8080]);
      expect(named<Service>(objects, 'Service', 'idgate-filter').spec.ports.map((p) => p.port)).toEqual([50051, 9192]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("carries each config as values.yaml gives it, with its checksum on the pods, so that a config change rolls them", async () => {
    const values = parse(await readFile(join(REPO, HELM_CHART, 'values.yaml'), 'utf8')) as {
      single: { config: string };
      replicas: { issuer: { config: string }; filter: { config: string } };
    };
    const expected: Record<TopologyName, Record<string, string>> = {
      single: { idgate: values.single.config },
      replicas: { idgate: values.replicas.issuer.config, 'idgate-filter': values.replicas.filter.config },
    };
    for (const [topology, configs] of Object.entries(expected) as Array<[TopologyName, Record<string, string>]>) {
      const pods = idgatePods(await renderHelm(topologyArgs[topology]));
      expect(pods.map((pod) => pod.deployment.metadata.name).sort()).toEqual(Object.keys(configs).sort());
      for (const pod of pods) {
        const config = configs[pod.deployment.metadata.name]!;
        expect(pod.configText.replace(/[ \t]+$/gm, '')).toBe(config);
        const checksum = createHash('sha256').update(config).digest('hex');
        expect(pod.deployment.spec.template.metadata.annotations?.['checksum/config'], pod.deployment.metadata.name).toBe(checksum);
      }
    }
  });

  it('refuses a config without the listeners the probes and Services need, naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idgate-helm-'));
    try {
      const values = parse(await readFile(join(REPO, HELM_CHART, 'values.yaml'), 'utf8')) as { single: { config: string } };
      const cases = [
        ['telemetry:\n  http: 0.0.0.0:5558\n', 'idgate: the config needs telemetry.http (the probes ask it)'],
        ['web:\n  http: 0.0.0.0:5556\n', "the issuer's config needs web.http"],
      ] as const;
      for (const [section, message] of cases) {
        expect(values.single.config).toContain(section);
        await writeFile(join(dir, 'config.yaml'), values.single.config.replace(section, ''));
        await expect(renderHelm(['--set-file', `single.config=${join(dir, 'config.yaml')}`])).rejects.toThrow(message);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a topology it does not know, naming it', async () => {
    await expect(renderHelm(['--set', 'topology=cluster'])).rejects.toThrow('topology: "cluster" is not a topology (single or replicas)');
  });

  it('names its objects after the release', async () => {
    const objects = await renderHelm(topologyArgs.replicas, 'login');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(expect.arrayContaining(['Deployment/login-idgate', 'Deployment/login-idgate-filter', 'Service/login-idgate']));
    const deployment = named<Deployment>(objects, 'Deployment', 'login-idgate');
    expect(deployment.spec.template.spec.serviceAccountName).toBe('login-idgate');
    expect(deployment.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('login');
  });
});
