/**
 * The rules every rendering of an idgate topology must keep, whichever tool rendered it (a kustomize
 * overlay, the Helm chart): `describeTopology` registers them as tests, so the overlays and the chart
 * are held to the same rules. Each compares the manifests with what idgate really does: the config's
 * listeners, the telemetry paths, the files the process writes, the policy loader.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadPolicyFiles } from '../../src/authz/policy/load.js';
import { preflightConfig } from '../../src/config/preflight.js';
import { writeConfigMapVolume } from '../helpers/configmap-volume.js';
import { imageUser, readDockerfile } from './dockerfile.js';
import { containerPort, idgatePods, type IdgatePod } from './idgate-pods.js';
import {
  KUSTOMIZE_OVERLAYS, REPO, named, ofKind, selects,
  type K8sObject, type NetworkPolicy, type NetworkPolicyPeer, type PersistentVolumeClaim, type PodDisruptionBudget,
  type SecurityContext, type Service, type TopologyName,
} from './render.js';

/** Who may reach the telemetry (admin) and filter ports; the issuer's port is open to all. */
export const MONITORING_NAMESPACE = 'monitoring';
export const INGRESS_NAMESPACE = 'istio-system';
const ANYONE = 'anyone' as const;

export interface TopologyOptions {
  topology: TopologyName;
  /** The image every idgate container must run, e.g. idgate:0.1.0. */
  image: string;
}

/** The Secret keys docs/deploy.md tells to create before applying the topology's overlay. */
export async function documentedSecretKeys(topology: TopologyName): Promise<string[]> {
  const docs = await readFile(join(REPO, 'docs/deploy.md'), 'utf8');
  const blocks = [...docs.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const block = blocks.find((text) => text.includes('kubectl create secret generic idgate-secrets') && text.includes(`kubectl apply -k ${KUSTOMIZE_OVERLAYS[topology]}`));
  if (!block) throw new Error(`docs/deploy.md has no sh block creating idgate-secrets and applying ${KUSTOMIZE_OVERLAYS[topology]}`);
  return [...block.matchAll(/--from-literal=([A-Za-z_][A-Za-z0-9_]*)=/g)].map((match) => match[1]!).sort();
}

/** A container's security context as it takes effect: its own fields over the pod's. */
function effectiveSecurity(pod: IdgatePod): SecurityContext {
  return { ...pod.spec.securityContext, ...pod.container.securityContext };
}

/** The mount a path lies on (the deepest one). */
function mountOf(pod: IdgatePod, path: string) {
  return (pod.container.volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

/** Where the process writes: the SQLite file's directory (and its -wal/-shm), audit files, SQLite's temp dir. */
function writtenDirectories(pod: IdgatePod): string[] {
  const { config } = pod;
  const written: string[] = [];
  if (config.storage.type === 'sqlite3') written.push(dirname(config.storage.config.file), '/tmp');
  if (config.audit.file) written.push(dirname(config.audit.file));
  if (config.filter?.audit.enabled && config.filter.audit.file) written.push(dirname(config.filter.audit.file));
  return written;
}

/** For each port of the pod, who the NetworkPolicies selecting it let in (ANYONE, or the peers). */
function admittedSources(pod: IdgatePod, policies: NetworkPolicy[]): Map<string, Array<NetworkPolicyPeer | typeof ANYONE>> {
  const selecting = policies.filter((p) => (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && selects(p.spec.podSelector.matchLabels, pod.labels));
  const admitted = new Map<string, Array<NetworkPolicyPeer | typeof ANYONE>>();
  for (const port of pod.container.ports ?? []) {
    const sources: Array<NetworkPolicyPeer | typeof ANYONE> = [];
    for (const rule of selecting.flatMap((p) => p.spec.ingress ?? [])) {
      const covers = !rule.ports || rule.ports.some((p) => p.port === undefined || p.port === port.name || p.port === port.containerPort);
      if (covers) sources.push(...(rule.from && rule.from.length > 0 ? rule.from : [ANYONE]));
    }
    admitted.set(port.name, sources);
  }
  return admitted;
}

const namespacePeer = (name: string): NetworkPolicyPeer => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });

export function describeTopology(title: string, render: () => Promise<K8sObject[]>, options: TopologyOptions): void {
  describe(title, () => {
    let objects: K8sObject[];
    let pods: IdgatePod[];
    const temps: string[] = [];
    beforeAll(async () => {
      objects = await render();
      pods = idgatePods(objects);
    });
    afterAll(async () => {
      await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it('runs the image of this version in every Deployment', () => {
      expect(pods.length).toBe(options.topology === 'single' ? 1 : 2);
      for (const pod of pods) {
        expect(pod.spec.containers.map((c) => c.image)).toEqual([options.image]);
        expect(pod.spec.initContainers).toBeUndefined();
      }
    });

    it("gives every pod a config that idgate's loader accepts and `idgate check` would pass", async () => {
      for (const pod of pods) {
        expect(await preflightConfig(pod.config, { connectors: true }), pod.configMap.metadata.name).toEqual([]);
      }
    });

    it('provides every environment variable a config reads from the Secret that docs/deploy.md creates', async () => {
      const documented = await documentedSecretKeys(options.topology);
      for (const pod of pods) {
        expect(pod.envNames.length, `${pod.deployment.metadata.name} reads no secret from the environment`).toBeGreaterThan(0);
        expect(documented).toEqual(expect.arrayContaining(pod.envNames));
        const secrets = (pod.container.envFrom ?? []).map((source) => source.secretRef?.name);
        expect(secrets).toEqual(['idgate-secrets']);
      }
    });

    it("opens a container port for each of the config's listeners, named for it, and no other", () => {
      for (const pod of pods) {
        const ports = Object.fromEntries((pod.container.ports ?? []).map((p) => [p.name, p.containerPort]));
        expect(ports, pod.deployment.metadata.name).toEqual(pod.listeners);
        expect(pod.listeners.telemetry, 'every process has a telemetry listener for its probes').toBeDefined();
        expect(pod.listenHosts.every((host) => host === '0.0.0.0' || host === '::'), `${pod.deployment.metadata.name} listens where the Service cannot reach it: ${pod.listenHosts.join(', ')}`).toBe(true);
      }
    });

    it('labels each pod with the roles its config gives it, which the Services and NetworkPolicies select on', () => {
      for (const pod of pods) {
        expect(pod.labels['idgate/issuer'] === 'true').toBe(pod.roles.issuer);
        expect(pod.labels['idgate/filter'] === 'true').toBe(pod.roles.filter);
        expect(selects(pod.deployment.spec.selector.matchLabels, pod.labels)).toBe(true);
        const others = pods.filter((other) => other !== pod);
        expect(others.some((other) => selects(pod.deployment.spec.selector.matchLabels, other.labels)), 'Deployment selectors overlap').toBe(false);
      }
      expect(pods.some((pod) => pod.roles.issuer)).toBe(true);
      expect(pods.some((pod) => pod.roles.filter)).toBe(true);
    });

    it('probes /healthz/live (startup, liveness) and /healthz/ready (readiness) on the telemetry listener', () => {
      for (const pod of pods) {
        const { startupProbe, livenessProbe, readinessProbe } = pod.container;
        expect(startupProbe?.httpGet?.path).toBe('/healthz/live');
        expect(livenessProbe?.httpGet?.path).toBe('/healthz/live');
        expect(readinessProbe?.httpGet?.path).toBe('/healthz/ready');
        for (const probe of [startupProbe, livenessProbe, readinessProbe]) {
          expect(containerPort(pod.container, probe?.httpGet?.port)).toBe(pod.listeners.telemetry);
        }
        // The readiness checks are bounded at 2 s each: the probe must wait for their answer.
        expect(readinessProbe?.timeoutSeconds ?? 1).toBeGreaterThan(2);
        expect(pod.deployment.spec.template.metadata.annotations?.['prometheus.io/port']).toBe(String(pod.listeners.telemetry));
      }
    });

    it("runs as the image's numeric non-root user, read-only, without privileges, under RuntimeDefault seccomp", async () => {
      const user = imageUser(await readDockerfile());
      for (const pod of pods) {
        const security = effectiveSecurity(pod);
        expect(security.runAsNonRoot).toBe(true);
        expect(security.runAsUser).toBe(user.uid);
        expect(security.runAsGroup).toBe(user.gid);
        expect(security.runAsUser).toBeGreaterThan(0);
        expect(security.allowPrivilegeEscalation).toBe(false);
        expect(security.readOnlyRootFilesystem).toBe(true);
        expect(security.privileged ?? false).toBe(false);
        expect(security.capabilities?.drop).toEqual(['ALL']);
        expect(security.capabilities?.add ?? []).toEqual([]);
        expect(security.seccompProfile?.type).toBe('RuntimeDefault');
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect([pod.spec.hostNetwork, pod.spec.hostPID, pod.spec.hostIPC].some(Boolean)).toBe(false);
      }
    });

    it('gives every directory the process writes a writable volume, and mounts config and policies read-only', () => {
      for (const pod of pods) {
        for (const directory of writtenDirectories(pod)) {
          const mount = mountOf(pod, directory);
          expect(mount, `${pod.deployment.metadata.name} writes ${directory} on its read-only root filesystem`).toBeDefined();
          expect(mount!.readOnly ?? false).toBe(false);
          const volume = pod.spec.volumes?.find((v) => v.name === mount!.name);
          expect(Boolean(volume?.emptyDir || volume?.persistentVolumeClaim), `${directory} is on ${JSON.stringify(volume)}`).toBe(true);
        }
        for (const mount of pod.container.volumeMounts ?? []) {
          const volume = pod.spec.volumes?.find((v) => v.name === mount.name);
          if (volume?.configMap || volume?.secret) expect(mount.readOnly, mount.mountPath).toBe(true);
        }
      }
    });

    it('keeps SQLite on a ReadWriteOnce PersistentVolumeClaim with one replica recreated, or PostgreSQL with several replicas', () => {
      for (const pod of pods) {
        const { storage } = pod.config;
        if (options.topology === 'single') {
          expect(storage.type).toBe('sqlite3');
          if (storage.type !== 'sqlite3') continue;
          const volume = pod.spec.volumes?.find((v) => v.name === mountOf(pod, dirname(storage.config.file))?.name);
          const claim = named<PersistentVolumeClaim>(objects, 'PersistentVolumeClaim', volume?.persistentVolumeClaim?.claimName ?? '(none)');
          expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
          expect(pod.deployment.spec.replicas).toBe(1);
          expect(pod.deployment.spec.strategy?.type).toBe('Recreate');
        } else {
          expect(storage.type).toBe('postgres');
          expect(pod.deployment.spec.replicas).toBeGreaterThanOrEqual(2);
          expect(pod.deployment.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
        }
      }
    });

    it('requests CPU and memory and limits memory for every container', () => {
      for (const pod of pods) {
        const { requests, limits } = pod.container.resources ?? {};
        expect(requests?.cpu, pod.deployment.metadata.name).toMatch(/^\d+m?$/);
        expect(requests?.memory).toMatch(/^\d+[MG]i$/);
        expect(limits?.memory).toMatch(/^\d+[MG]i$/);
        expect(limits?.cpu, 'a CPU limit throttles the filter on the request path').toBeUndefined();
      }
    });

    it('covers each Deployment by exactly one PodDisruptionBudget that still lets a node drain', () => {
      const budgets = ofKind<PodDisruptionBudget>(objects, 'PodDisruptionBudget');
      for (const pod of pods) {
        const covering = budgets.filter((b) => selects(b.spec.selector.matchLabels, pod.labels));
        expect(covering.map((b) => b.metadata.name), pod.deployment.metadata.name).toHaveLength(1);
        const budget = covering[0]!.spec;
        const replicas = pod.deployment.spec.replicas;
        if (budget.minAvailable !== undefined) {
          expect(typeof budget.minAvailable).toBe('number');
          expect(budget.minAvailable).toBeGreaterThanOrEqual(1);
          expect(Number(budget.minAvailable)).toBeLessThan(replicas);
        } else {
          expect(budget.maxUnavailable).toBe(1);
        }
      }
      for (const budget of budgets) {
        expect(pods.filter((pod) => selects(budget.spec.selector.matchLabels, pod.labels)), budget.metadata.name).toHaveLength(1);
      }
    });

    it("exposes the issuer's port on the idgate Service and the filter's gRPC and HTTP ports on idgate-filter", () => {
      const expected = { idgate: { role: 'issuer', ports: ['http'] }, 'idgate-filter': { role: 'filter', ports: ['grpc-authz', 'http-authz'] } } as const;
      for (const [name, { role, ports }] of Object.entries(expected)) {
        const service = named<Service>(objects, 'Service', name);
        const selected = pods.filter((pod) => selects(service.spec.selector, pod.labels));
        expect(selected.map((pod) => pod.deployment.metadata.name)).toEqual(pods.filter((pod) => pod.roles[role]).map((pod) => pod.deployment.metadata.name));
        expect(service.spec.ports.map((p) => p.name)).toEqual(ports);
        for (const port of service.spec.ports) {
          for (const pod of selected) {
            // The Service port is the config's own port, so in-cluster URLs (jwksUri, Istio's provider) can use it.
            expect(containerPort(pod.container, port.targetPort), `${name}:${port.name} on ${pod.deployment.metadata.name}`).toBe(port.port);
          }
        }
      }
      expect(named<Service>(objects, 'Service', 'idgate-filter').spec.ports.find((p) => p.name === 'grpc-authz')?.appProtocol).toBe('grpc');
      expect(ofKind(objects, 'Service')).toHaveLength(2);
    });

    it('lets only the monitoring namespace reach the telemetry (admin) listener, and only the ingress namespace the filter', () => {
      const policies = ofKind<NetworkPolicy>(objects, 'NetworkPolicy');
      const only = (namespace: string) => [namespacePeer(namespace)];
      for (const pod of pods) {
        const admitted = admittedSources(pod, policies);
        expect(admitted.get('telemetry'), pod.deployment.metadata.name).toEqual(only(MONITORING_NAMESPACE));
        if (pod.roles.issuer) expect(admitted.get('http')).toEqual([ANYONE]);
        if (pod.roles.filter) {
          expect(admitted.get('grpc-authz')).toEqual(only(INGRESS_NAMESPACE));
          expect(admitted.get('http-authz')).toEqual(only(INGRESS_NAMESPACE));
        }
      }
      // A policy naming a port no pod it selects has would admit nothing there, silently.
      for (const policy of policies) {
        const selected = pods.filter((pod) => selects(policy.spec.podSelector.matchLabels, pod.labels));
        expect(selected.length, policy.metadata.name).toBeGreaterThan(0);
        for (const port of (policy.spec.ingress ?? []).flatMap((rule) => rule.ports ?? [])) {
          expect(selected.some((pod) => containerPort(pod.container, port.port) !== undefined), `${policy.metadata.name}: port ${String(port.port)}`).toBe(true);
        }
      }
    });

    it('mounts the policies ConfigMap as a watched directory where filter.policies looks, and the policies load', async () => {
      for (const pod of pods.filter((p) => p.roles.filter)) {
        const filter = pod.config.filter!;
        expect(filter.watch).toBe(true);
        expect(filter.watchInterval).toBeGreaterThan(0);
        expect(filter.policies).toHaveLength(1);
        const mount = (pod.container.volumeMounts ?? []).find((m) => m.mountPath === filter.policies[0]);
        expect(mount, `nothing is mounted at ${filter.policies[0]}`).toBeDefined();
        // A subPath mount is never updated by kubelet: the filter would keep the old policies.
        expect(mount!.subPath).toBeUndefined();
        const configMap = named(objects, 'ConfigMap', pod.spec.volumes?.find((v) => v.name === mount!.name)?.configMap?.name ?? '(none)');
        expect(configMap.metadata.name, 'a hash-suffixed name would roll pods instead of reloading').toMatch(/-policies$/);

        const dir = await mkdtemp(join(tmpdir(), 'idgate-deploy-policies-'));
        temps.push(dir);
        await writeConfigMapVolume(dir, configMap.data ?? {});
        const loaded = await loadPolicyFiles([dir], { rootNamespace: filter.rootNamespace });
        expect(loaded.problems).toEqual([]);
        expect(loaded.files).toHaveLength(Object.keys(configMap.data ?? {}).length);
        expect(loaded.resources.length).toBeGreaterThan(0);
        // The example admits tokens of the configured issuer: another issuer there would deny everyone.
        const principals = Object.values(configMap.data ?? {}).flatMap((text) => [...text.matchAll(/requestPrincipals:\s*\[([^\]]*)\]/g)].map((m) => m[1]!));
        for (const list of principals) {
          for (const principal of parseAllDocuments(`[${list}]`).flatMap((d) => d.toJS() as string[])) {
            expect(principal.startsWith(`${pod.config.issuer}/`), principal).toBe(true);
          }
        }
      }
    });

    if (options.topology === 'replicas') {
      it("runs the filter alone, verifying the issuer's tokens at the issuer Service's /keys", () => {
        const filters = pods.filter((pod) => pod.roles.filter);
        const issuers = pods.filter((pod) => pod.roles.issuer);
        expect(filters.every((pod) => !pod.roles.issuer)).toBe(true);
        expect(issuers.every((pod) => !pod.roles.filter)).toBe(true);
        const service = named<Service>(objects, 'Service', 'idgate');
        for (const pod of filters) {
          const issuerConfig = issuers[0]!.config;
          expect(pod.config.storage, 'the filter follows revocations in the issuers\' database').toEqual(issuerConfig.storage);
          const rules = pod.config.filter!.jwtRules.filter((rule) => rule.issuer === issuerConfig.issuer);
          expect(rules).toHaveLength(1);
          const jwks = new URL(rules[0]!.jwksUri ?? '');
          expect(jwks.hostname).toBe(service.metadata.name);
          expect(Number(jwks.port)).toBe(service.spec.ports[0]!.port);
          expect(jwks.pathname).toBe(`${new URL(issuerConfig.issuer).pathname}/keys`);
          expect(rules[0]!.audiences).toEqual(issuerConfig.staticClients.map((client) => client.id));
        }
      });
    } else {
      it("verifies the co-located issuer's tokens in-process, for its clients", () => {
        const [pod] = pods;
        expect(pod!.config.filter!.jwtRules).toEqual([]);
        expect(pod!.config.filter!.issuerAudiences).toEqual(pod!.config.staticClients.map((client) => client.id));
      });
    }
  });
}
