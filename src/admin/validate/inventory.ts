/**
 * What the cluster has, from the Kubernetes documents given beside the policies: namespaces,
 * workloads (labels and the service account they run as), service accounts, services (selector and
 * exportTo), and the mesh settings. A part that no document describes stays undefined, and the checks
 * that need it are skipped: an absent inventory is not an empty cluster.
 */
import type { InventoryDocument } from '../../authz/policy/resources.js';
import { findingOn, type Finding } from './finding.js';
import { defaultMeshSettings, readMeshConfig, type MeshSettings } from './mesh-config.js';

export interface Workload {
  kind: string;
  name: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  serviceAccount: string;
}

export interface Service {
  name: string;
  namespace: string;
  selector: Readonly<Record<string, string>>;
  /** networking.istio.io/exportTo, else the mesh's defaultServiceExportTo; none: visible everywhere. */
  exportTo?: readonly string[];
}

export interface Inventory {
  /** Namespace documents, plus the namespace of every object given; undefined without Namespace documents. */
  namespaces?: ReadonlySet<string>;
  workloads?: readonly Workload[];
  /** "namespace/name", from ServiceAccount documents and the workloads' serviceAccountName. */
  serviceAccounts?: ReadonlySet<string>;
  services?: readonly Service[];
  mesh: MeshSettings;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod']);

function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringMap(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(object(value)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** A workload's pod template (Pod: itself): its labels and service account ("default" when unset, as Kubernetes does). */
function workloadOf(doc: InventoryDocument, namespace: string): Workload {
  const pod = doc.kind === 'Pod' ? doc.value : object(object(doc.value.spec).template);
  const labels = doc.kind === 'Pod' ? doc.labels : stringMap(object(pod.metadata).labels);
  const spec = object(pod.spec);
  const account = typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : typeof spec.serviceAccount === 'string' ? spec.serviceAccount : 'default';
  return { kind: doc.kind, name: doc.name, namespace, labels, serviceAccount: account || 'default' };
}

/**
 * Builds the inventory. `objectNamespaces` are the namespaces of the policies themselves (they exist,
 * or they could not have been applied). Unreadable inventory documents come back as IDG0001 findings.
 */
export function readInventory(docs: readonly InventoryDocument[], objectNamespaces: Iterable<string>, rootNamespace: string): { inventory: Inventory; findings: Finding[] } {
  const findings: Finding[] = [];
  const namespaceDocs = new Set<string>();
  const seenNamespaces = new Set(objectNamespaces);
  const workloads: Workload[] = [];
  const accounts = new Set<string>();
  const services: Array<Service & { annotated: boolean }> = [];
  let mesh: MeshSettings | undefined;
  let sawAccounts = false;
  for (const doc of docs) {
    const namespace = doc.namespace ?? 'default';
    const subject = { kind: doc.kind, name: doc.name, namespace: doc.kind === 'Namespace' ? '' : namespace, file: doc.file, document: doc.document, ...(doc.locate ? { locate: doc.locate } : {}) };
    if (doc.kind === 'Namespace') {
      namespaceDocs.add(doc.name);
      continue;
    }
    seenNamespaces.add(namespace);
    if (doc.kind === 'ServiceAccount') {
      sawAccounts = true;
      accounts.add(`${namespace}/${doc.name}`);
    } else if (WORKLOAD_KINDS.has(doc.kind)) {
      const workload = workloadOf(doc, namespace);
      workloads.push(workload);
      accounts.add(`${namespace}/${workload.serviceAccount}`);
    } else if (doc.kind === 'Service') {
      const annotation = doc.annotations['networking.istio.io/exportTo'];
      const exportTo = annotation?.split(',').map((s) => s.trim()).filter(Boolean);
      services.push({ name: doc.name, namespace, selector: stringMap(object(doc.value.spec).selector), ...(exportTo ? { exportTo } : {}), annotated: exportTo !== undefined });
    } else if (doc.kind === 'ConfigMap' && doc.name === 'istio') {
      if (mesh) {
        findings.push(findingOn(subject, 'IDG0001', '', `a second istio ConfigMap; the mesh settings come from ${mesh.source}`, { severity: 'warning' }));
        continue;
      }
      const read = readMeshConfig(doc.value.data, rootNamespace, doc.file);
      if (typeof read === 'string') findings.push(findingOn(subject, 'IDG0001', 'data.mesh', `${read}; using Istio's defaults`));
      else mesh = read;
    }
  }
  const settings = mesh ?? defaultMeshSettings(rootNamespace);
  for (const service of services) {
    if (!service.annotated && settings.defaultServiceExportTo) service.exportTo = settings.defaultServiceExportTo;
  }
  const inventory: Inventory = {
    mesh: settings,
    ...(namespaceDocs.size > 0 ? { namespaces: new Set([...namespaceDocs, ...seenNamespaces]) } : {}),
    ...(workloads.length > 0 ? { workloads } : {}),
    ...(sawAccounts || workloads.length > 0 ? { serviceAccounts: accounts } : {}),
    ...(services.length > 0 ? { services: services.map(({ annotated: _annotated, ...service }) => service) } : {}),
  };
  return { inventory, findings };
}

/** Istio's exportTo: visible from `viewer` when unset, "*", "." from its own namespace, or naming it ("~": nowhere). */
export function exportedTo(exportTo: readonly string[] | undefined, owner: string, viewer: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  return exportTo.some((to) => to === '*' || (to === '.' && owner === viewer) || to === viewer);
}
