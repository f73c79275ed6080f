/**
 * Kiali's DestinationRule host and subset checks (destinationrules/multi_match_checker.go,
 * no_dest_checker.go, traffic_policy_checker.go): KIA0201 two rules for one host and subset, KIA0202 a
 * host not in the registry, KIA0203 a subset whose labels select no workload of the service, KIA0209
 * a subset without labels, KIA0204 a rule without TLS settings that hides a mesh- or namespace-wide
 * rule enabling mTLS.
 */
import { selects } from '../../../authz/policy/policy-set.js';
import type { DestinationRuleResource } from '../../../authz/policy/resources.js';
import type { CheckContext } from '../context.js';
import { findingOn, label, type Finding } from '../finding.js';
import { getHost, hostName, isWildcardHost, parseHost, serviceAndNamespace, withinWildcardHost, type Host } from '../hosts.js';
import { MESH_WIDE_HOST, namespaceWideHost, tlsMode, tlsModeFor } from '../mtls-status.js';

/** Mesh- and namespace-wide rules that set ISTIO_MUTUAL are defaults meant to sit under specific ones. */
function isNonLocalMtls(dr: DestinationRuleResource, identityDomain: string): boolean {
  return tlsModeFor(dr, MESH_WIDE_HOST) === 'ISTIO_MUTUAL' || tlsModeFor(dr, namespaceWideHost(dr.namespace, identityDomain)) === 'ISTIO_MUTUAL';
}

const hostsOverlap = (a: string, b: string) => a === b || a === '*' || b === '*' || withinWildcardHost(a, b) || withinWildcardHost(b, a);

/** KIA0201: both rules of every colliding pair (same or overlapping host, same subset, or one of them for all subsets). */
function checkMultiMatch(context: CheckContext): Finding[] {
  const { identityDomain } = context.inventory.mesh;
  const seen = new Map<string, Map<string, DestinationRuleResource[]>>();
  const collisions = new Map<DestinationRuleResource, Set<DestinationRuleResource>>();
  const collide = (a: DestinationRuleResource, b: DestinationRuleResource) => {
    collisions.set(a, (collisions.get(a) ?? new Set()).add(b));
    collisions.set(b, (collisions.get(b) ?? new Set()).add(a));
  };
  for (const dr of context.destinationRules) {
    if (isNonLocalMtls(dr, identityDomain)) continue;
    const host = hostName(getHost(dr.spec.host, dr.namespace, context.clusterNamespaces, identityDomain));
    const subsets = dr.spec.subsets?.length ? dr.spec.subsets.map((s) => s.name) : ['~'];
    for (const [other, existing] of seen) {
      if (!hostsOverlap(host, other)) continue;
      if (subsets.length === 1 && subsets[0] === '~') for (const list of existing.values()) for (const e of list) collide(dr, e);
      for (const e of existing.get('~') ?? []) collide(dr, e);
      for (const s of subsets) for (const e of existing.get(s) ?? []) collide(dr, e);
    }
    const entry = seen.get(host) ?? new Map<string, DestinationRuleResource[]>();
    for (const s of subsets) entry.set(s, [...(entry.get(s) ?? []), dr]);
    seen.set(host, entry);
  }
  return [...collisions].map(([dr, others]) =>
    findingOn(dr, 'KIA0201', 'spec.host', 'More than one DestinationRule for the same host and subset', { value: dr.spec.host, references: [...others].filter((o) => o !== dr).map(label) }));
}

/** Kiali's hasMatchingService: a wildcard, a workload whose app label is the service (own namespace), or a registry entry. */
function hostExists(context: CheckContext, host: Host, dr: DestinationRuleResource): boolean {
  if (isWildcardHost(host)) return true;
  const [service, namespace] = serviceAndNamespace(host);
  if (namespace === dr.namespace && context.inventory.workloads?.some((w) => w.namespace === namespace && appLabel(w.labels) === service)) return true;
  return context.registry!.visibleFrom(hostName(host), dr.namespace);
}

function appLabel(labels: Readonly<Record<string, string>>): string | undefined {
  return labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app;
}

/** Kiali's hasMatchingWorkload: a workload of the service (by its selector) that also has the subset's labels. */
function subsetSelects(context: CheckContext, host: Host, subset: Readonly<Record<string, string>>): boolean {
  if (isWildcardHost(host)) return true;
  const [name, namespace] = serviceAndNamespace(host);
  const selector = context.registry?.find(name, namespace)?.selector ?? {};
  if (Object.keys(selector).length === 0) return false; // ServiceEntry endpoints are not read
  return (context.inventory.workloads ?? []).some((w) => w.namespace === namespace && selects(selector, w.labels) && selects(subset, w.labels));
}

/** KIA0202, KIA0203, KIA0209 (Kiali's NoDestinationChecker). */
function checkDestinations(context: CheckContext, dr: DestinationRuleResource): Finding[] {
  const { mesh, workloads } = context.inventory;
  const host = getHost(dr.spec.host, dr.namespace, context.clusterNamespaces, mesh.identityDomain);
  if (context.registry && !hostExists(context, host, dr)) {
    return [findingOn(dr, 'KIA0202', 'spec.host', `This host has no matching entry in the service registry (no Service or workload for ${hostName(host)})`, {
      value: dr.spec.host,
      ...(mesh.outboundAllowAny ? { severity: 'warning' as const } : {}),
    })];
  }
  const findings: Finding[] = [];
  const unlabelled: number[] = [];
  let someSubsetSelects = false;
  (dr.spec.subsets ?? []).forEach((subset, i) => {
    const labels = subset.labels ?? {};
    if (Object.keys(labels).length === 0) return void unlabelled.push(i);
    if (!context.registry || !workloads) return;
    if (subsetSelects(context, host, labels)) someSubsetSelects = true;
    else findings.push(findingOn(dr, 'KIA0203', `spec.subsets[${i}]`, `The labels of subset "${subset.name}" select no workload of ${hostName(host)}`, { value: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') }));
  });
  for (const i of unlabelled) {
    const name = dr.spec.subsets![i]!.name;
    findings.push(findingOn(dr, 'KIA0209', `spec.subsets[${i}]`, `Subset "${name}" has no labels: it selects every endpoint of the host`, { value: name, ...(someSubsetSelects ? { severity: 'info' as const } : {}) }));
  }
  return findings;
}

/** KIA0204: a rule for a host that a mesh- or namespace-wide mTLS rule covers, with no TLS settings of its own. */
function checkOverriddenMtls(context: CheckContext): Finding[] {
  const { identityDomain } = context.inventory.mesh;
  const nonLocal = context.destinationRules.filter((dr) => isNonLocalMtls(dr, identityDomain));
  const findings: Finding[] = [];
  for (const dr of context.destinationRules) {
    const host = parseHost(dr.spec.host, dr.namespace, identityDomain);
    const covering = nonLocal.filter((m) => {
      const h = parseHost(m.spec.host, dr.namespace, identityDomain);
      return h.service === MESH_WIDE_HOST || (h.cluster === host.cluster && h.namespace === host.namespace);
    });
    for (const other of context.destinationRules) {
      if (other === dr || tlsMode(other) !== 'ISTIO_MUTUAL') continue;
      if (other.spec.host === `*.${host.namespace}.${host.cluster}` || other.spec.host === hostName(host)) covering.push(other);
    }
    if (covering.length === 0) continue;
    const policy = dr.spec.trafficPolicy;
    if (policy?.tls || policy?.portLevelSettings?.some((p) => p.tls)) continue;
    findings.push(findingOn(dr, 'KIA0204', 'spec.trafficPolicy', `No TLS settings: this rule overrides the mTLS that ${label(covering[0]!)} sets for its host`, { references: [...new Set(covering.map(label))] }));
  }
  return findings;
}

export function checkDestinationRuleHosts(context: CheckContext): Finding[] {
  return [...checkMultiMatch(context), ...context.destinationRules.flatMap((dr) => checkDestinations(context, dr)), ...checkOverriddenMtls(context)];
}
