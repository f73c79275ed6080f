/**
 * What every checker reads: the policy resources, the DestinationRules, the inventory and mesh
 * settings, with the views built once (mTLS, the service registry, the namespaces a host may name).
 */
import type { PathNormalizationOptions } from '../../authz/policy/normalize-path.js';
import type { DestinationRuleResource, PolicyResource } from '../../authz/policy/resources.js';
import type { Finding } from './finding.js';
import { ServiceRegistry } from './hosts.js';
import type { Inventory } from './inventory.js';
import { MtlsView, type PeerAuthentication } from './mtls-status.js';

export type AuthorizationPolicy = Extract<PolicyResource, { kind: 'AuthorizationPolicy' }>;
export type RequestAuthentication = Extract<PolicyResource, { kind: 'RequestAuthentication' }>;

export interface CheckInput {
  resources: readonly PolicyResource[];
  destinationRules: readonly DestinationRuleResource[];
  inventory: Inventory;
  /** How the filter normalizes request paths (for the unreachable-path check). */
  paths: PathNormalizationOptions;
}

export interface CheckContext extends CheckInput {
  authorizationPolicies: readonly AuthorizationPolicy[];
  peerAuthentications: readonly PeerAuthentication[];
  requestAuthentications: readonly RequestAuthentication[];
  mtls: MtlsView;
  /** Undefined without Service documents. */
  registry?: ServiceRegistry;
  /** Every namespace known, from the inventory or, without Namespace documents, from the objects given. */
  clusterNamespaces: ReadonlySet<string>;
}

export type Checker = (context: CheckContext) => Finding[];

export function checkContext(input: CheckInput): CheckContext {
  const { resources, destinationRules, inventory } = input;
  const peerAuthentications = resources.filter((r): r is PeerAuthentication => r.kind === 'PeerAuthentication');
  const implied = new Set([...resources, ...destinationRules].map((r) => r.namespace));
  for (const w of inventory.workloads ?? []) implied.add(w.namespace);
  for (const s of inventory.services ?? []) implied.add(s.namespace);
  return {
    ...input,
    authorizationPolicies: resources.filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy'),
    peerAuthentications,
    requestAuthentications: resources.filter((r): r is RequestAuthentication => r.kind === 'RequestAuthentication'),
    mtls: new MtlsView(peerAuthentications, destinationRules, inventory.mesh, inventory.services),
    ...(inventory.services ? { registry: new ServiceRegistry(inventory.services, inventory.mesh.identityDomain) } : {}),
    clusterNamespaces: inventory.namespaces ?? implied,
  };
}
