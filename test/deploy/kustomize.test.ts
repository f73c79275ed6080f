/**
 * The kustomize overlays (deploy/kubernetes), rendered with `kubectl kustomize` and held to the rules
 * in topology-checks.ts, plus what only kustomize does: the namespace, and the generated ConfigMap
 * names that roll the pods on a config change while the policies keep their name and reload in place.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { idgatePods } from './idgate-pods.js';
import { KUSTOMIZE_OVERLAYS, REPO, ofKind, renderKustomize, type K8sObject } from './render.js';
import { describeTopology } from './topology-checks.js';

const version = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describeTopology('kustomize overlay single-sqlite: the issuer and the filter in one process, SQLite on a PVC', () => renderKustomize(KUSTOMIZE_OVERLAYS.single), {
  topology: 'single',
  image: `idgate:${version}`,
});

describeTopology('kustomize overlay replicas-postgres: issuer replicas on PostgreSQL and filter replicas', () => renderKustomize(KUSTOMIZE_OVERLAYS.replicas), {
  topology: 'replicas',
  image: `idgate:${version}`,
});

describe.each(Object.entries(KUSTOMIZE_OVERLAYS))('kustomize overlay %s', (_, overlay) => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await renderKustomize(overlay);
  });

  it('puts every object in the idgate namespace, which enforces the restricted Pod Security Standard', () => {
    const [namespace, ...more] = ofKind(objects, 'Namespace');
    expect(more).toEqual([]);
    expect(namespace?.metadata.name).toBe('idgate');
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe('idgate');
    }
  });

  it('names each config ConfigMap after its content, so that an overlay changing the config rolls the pods', async () => {
    const [pod] = idgatePods(objects);
    expect(pod!.configMap.metadata.name).toMatch(/^idgate-config-[a-z0-9]{10}$/);
    // An overlay of one's own on top, replacing the config: the Deployment then names another ConfigMap.
    const dir = await mkdtemp(join(tmpdir(), 'idgate-overlay-'));
    try {
      await writeFile(join(dir, 'config.yaml'), `${pod!.configText}\n# edited\n`);
      await writeFile(join(dir, 'kustomization.yaml'), [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${relative(dir, join(REPO, overlay))}]`, // kustomize takes no absolute path
        'configMapGenerator:',
        '  - { name: idgate-config, behavior: replace, files: [config.yaml] }',
        '',
      ].join('\n'));
      const [edited] = idgatePods(await renderKustomize(dir)).filter((p) => p.deployment.metadata.name === pod!.deployment.metadata.name);
      expect(edited!.configText).toContain('# edited');
      expect(edited!.configMap.metadata.name).toMatch(/^idgate-config-[a-z0-9]{10}$/);
      expect(edited!.configMap.metadata.name).not.toBe(pod!.configMap.metadata.name);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the policies ConfigMap name, so that an edit reaches the running filters instead of new pods', () => {
    const policies = ofKind(objects, 'ConfigMap').filter((c) => c.metadata.name.includes('polic'));
    expect(policies.map((c) => c.metadata.name)).toEqual(['idgate-policies']);
  });

  it('labels every object as part of idgate', () => {
    for (const object of objects) {
      expect(object.metadata.labels?.['app.kubernetes.io/part-of'], `${object.kind}/${object.metadata.name}`).toBe('idgate');
    }
  });
});
