/**
 * KIA0004 (Kiali's common/workload_selector_checker.go): an AuthorizationPolicy, PeerAuthentication or
 * RequestAuthentication whose `selector.matchLabels` matches no workload of its namespace. A policy
 * in the root namespace applies to workloads of every namespace (Istio), so for AuthorizationPolicy
 * and RequestAuthentication there it is looked up in all of them.
 */
import { selects } from '../../../authz/policy/policy-set.js';
import type { CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';

export function checkWorkloadSelectors(context: CheckContext): Finding[] {
  const { workloads } = context.inventory;
  if (!workloads) return [];
  const root = context.inventory.mesh.rootNamespace;
  const findings: Finding[] = [];
  for (const resource of [...context.authorizationPolicies, ...context.peerAuthentications, ...context.requestAuthentications]) {
    const selector = resource.spec.selector?.matchLabels;
    if (!selector || Object.keys(selector).length === 0) continue;
    const anyNamespace = resource.namespace === root && resource.kind !== 'PeerAuthentication';
    const found = workloads.some((w) => (anyNamespace || w.namespace === resource.namespace) && selects(selector, w.labels));
    if (!found) {
      const value = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
      findings.push(findingOn(resource, 'KIA0004', 'spec.selector.matchLabels', `No matching workload found for the selector in ${anyNamespace ? 'any namespace' : `namespace "${resource.namespace}"`}`, { value }));
    }
  }
  return findings;
}
