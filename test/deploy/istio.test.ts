/**
 * The Istio example (deploy/istio): the extension provider the mesh config registers, and the CUSTOM
 * AuthorizationPolicy that sends the ingress gateway's traffic to it, checked against each other,
 * against the filter Service and config of every rendering (both overlays, both chart topologies),
 * against idgate's own policy loader, and against the guide that shows them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPolicyFiles } from '../../src/authz/policy/load.js';
import { idgatePods } from './idgate-pods.js';
import { KUSTOMIZE_OVERLAYS, REPO, named, renderHelm, renderKustomize, type K8sObject, type Service } from './render.js';
import { INGRESS_NAMESPACE } from './topology-checks.js';

const MESH_CONFIG = 'deploy/istio/mesh-config.yaml';
const POLICY = 'deploy/istio/ext-authz-policy.yaml';

interface ExtensionProvider {
  name: string;
  envoyExtAuthzGrpc?: { service: string; port: number; timeout?: string; failOpen?: boolean };
}

interface MeshConfigFile {
  kind: string;
  spec: { meshConfig: { extensionProviders: ExtensionProvider[] } };
}

interface CustomPolicy {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    selector?: { matchLabels: Record<string, string> };
    action: string;
    provider?: { name: string };
    rules?: Array<{ to?: Array<{ operation: { hosts?: string[]; notHosts?: string[] } }> }>;
  };
}

const renderings: Record<string, () => Promise<K8sObject[]>> = {
  'kustomize single-sqlite': () => renderKustomize(KUSTOMIZE_OVERLAYS.single),
  'kustomize replicas-postgres': () => renderKustomize(KUSTOMIZE_OVERLAYS.replicas),
  'helm topology=single': () => renderHelm([]),
  'helm topology=replicas': () => renderHelm(['--set', 'topology=replicas']),
};

describe('the Istio example', () => {
  let mesh: MeshConfigFile;
  let policy: CustomPolicy;
  let provider: ExtensionProvider;
  beforeAll(async () => {
    mesh = parse(await readFile(join(REPO, MESH_CONFIG), 'utf8')) as MeshConfigFile;
    policy = parse(await readFile(join(REPO, POLICY), 'utf8')) as CustomPolicy;
    const named = mesh.spec.meshConfig.extensionProviders.filter((p) => p.name === policy.spec.provider?.name);
    expect(named).toHaveLength(1);
    provider = named[0]!;
  });

  it('sends the ingress gateway to the provider the mesh config defines, as a CUSTOM action', () => {
    expect(mesh.kind).toBe('IstioOperator');
    expect(policy).toMatchObject({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', spec: { action: 'CUSTOM', provider: { name: provider.name } } });
    expect(policy.spec.selector?.matchLabels).toEqual({ istio: 'ingressgateway' });
    // The gateway's namespace is the one the NetworkPolicies let reach the filter's ports.
    expect(policy.metadata.namespace).toBe(INGRESS_NAMESPACE);
  });

  it('uses the gRPC provider, failing closed', () => {
    expect(provider.envoyExtAuthzGrpc).toBeDefined();
    expect(provider.envoyExtAuthzGrpc!.failOpen).toBe(false);
  });

  it.each(Object.keys(renderings))("points at the filter Service's gRPC port and the filter's gRPC listener (%s)", async (rendering) => {
    const objects = await renderings[rendering]!();
    const service = named<Service>(objects, 'Service', 'idgate-filter');
    const grpc = service.spec.ports.find((p) => p.name === 'grpc-authz')!;
    const [host, namespace, svc, ...rest] = provider.envoyExtAuthzGrpc!.service.split('.');
    expect([host, svc, rest.join('.')]).toEqual([service.metadata.name, 'svc', 'cluster.local']);
    expect(namespace).toBe(service.metadata.namespace ?? 'idgate');
    expect(provider.envoyExtAuthzGrpc!.port).toBe(grpc.port);
    for (const pod of idgatePods(objects).filter((p) => p.roles.filter)) expect(pod.listeners['grpc-authz']).toBe(grpc.port);
  });

  it("leaves the issuer's own host out, with and without a port, so that the login pages need no token", async () => {
    const [pod] = idgatePods(await renderKustomize(KUSTOMIZE_OVERLAYS.single));
    const issuerHost = new URL(pod!.config.issuer).host;
    const operations = (policy.spec.rules ?? []).flatMap((rule) => rule.to ?? []).map((to) => to.operation);
    expect(operations).toHaveLength(1);
    expect(operations[0]!.notHosts).toEqual([issuerHost, `${issuerHost}:*`]);
    expect(operations[0]!.hosts).toBeUndefined();
  });

  it("passes idgate's own Istio validation, which ignores the CUSTOM policy with a warning", async () => {
    const loaded = await loadPolicyFiles([join(REPO, POLICY)], { rootNamespace: 'istio-system' });
    expect(loaded.problems).toEqual([expect.objectContaining({ severity: 'warning', path: 'spec.action', message: 'ignored: CUSTOM policies are enforced by the proxy that calls idgate' })]);
  });

  it('is shown in docs/integrations/envoy-istio.md exactly as the files hold it', async () => {
    const guide = await readFile(join(REPO, 'docs/integrations/envoy-istio.md'), 'utf8');
    for (const file of [MESH_CONFIG, POLICY]) {
      const text = await readFile(join(REPO, file), 'utf8');
      expect(guide).toContain(`](../../${file})`);
      expect(guide).toContain(`# ${file}`);
      expect(guide).toContain(text.slice(text.indexOf('apiVersion:')));
    }
  });
});
