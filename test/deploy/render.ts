/**
 * Renders what deploy/ ships — a kustomize overlay (`kubectl kustomize`) or the Helm chart (`helm
 * template`) — and parses the documents, for the tests that check them; no cluster is involved. The
 * types name only the fields the tests read. .ci/k8s-tools puts both tools on PATH.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const KUSTOMIZE_OVERLAYS = { single: 'deploy/kubernetes/overlays/single-sqlite', replicas: 'deploy/kubernetes/overlays/replicas-postgres' } as const;
export const HELM_CHART = 'deploy/helm/idgate';
export type TopologyName = keyof typeof KUSTOMIZE_OVERLAYS;

export type Labels = Record<string, string>;

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: unknown;
  data?: Record<string, string>;
  [field: string]: unknown;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerPort {
  name: string;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args?: string[];
  env?: Array<{ name: string }>;
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string } }>;
  ports?: ContainerPort[];
  securityContext?: SecurityContext;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
}

export interface Volume {
  name: string;
  configMap?: { name: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: { sizeLimit?: string; medium?: string };
  secret?: { secretName: string };
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
}

export interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    strategy?: { type: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
    selector: { matchLabels: Labels };
    template: { metadata: { labels: Labels; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export interface Service extends K8sObject {
  spec: { selector: Labels; ports: Array<{ name: string; port: number; targetPort: string | number; appProtocol?: string }> };
}

export interface PodDisruptionBudget extends K8sObject {
  spec: { selector: { matchLabels: Labels }; minAvailable?: number | string; maxUnavailable?: number | string };
}

export interface NetworkPolicyPeer {
  namespaceSelector?: { matchLabels?: Labels };
  podSelector?: { matchLabels?: Labels };
  ipBlock?: { cidr: string };
}

export interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: { matchLabels?: Labels };
    policyTypes?: string[];
    ingress?: Array<{ from?: NetworkPolicyPeer[]; ports?: Array<{ port?: string | number; protocol?: string }> }>;
  };
}

export interface PersistentVolumeClaim extends K8sObject {
  spec: { accessModes: string[]; resources: { requests: { storage: string } } };
}

function tool(name: string): string {
  return process.env[name.toUpperCase()] ?? name;
}

async function render(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(tool(command), args, { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${command} is not on PATH: run .ci/k8s-tools (as .ci/run does) to install it`);
    }
    throw new Error(`${command} ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }
}

/** The documents of a YAML stream; empty documents (helm's separators) are dropped. */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors[0]!.message}`);
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

export async function renderKustomize(overlay: string): Promise<K8sObject[]> {
  return parseObjects(await render('kubectl', ['kustomize', overlay]));
}

/** `helm template <release> <chart> --namespace idgate` plus `args` (e.g. --set topology=replicas). */
export async function renderHelm(args: string[] = [], release = 'idgate'): Promise<K8sObject[]> {
  return parseObjects(await render('helm', ['template', release, HELM_CHART, '--namespace', 'idgate', ...args]));
}

export function ofKind<T extends K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}

export function named<T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found as T;
}

/** Whether every label a selector asks for is on `labels` (matchLabels semantics). */
export function selects(selector: Labels | undefined, labels: Labels): boolean {
  return Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
}
