/**
 * Kiali's PeerAuthentication checks (peer_authentication_checker.go, peerauthentications/*,
 * common/multi_match_selector_checker.go): KIA0002 two namespace-wide policies in one namespace,
 * KIA0003 two selector policies on one workload, and with auto mTLS off the DestinationRule that must
 * go with a STRICT policy (KIA0401 mesh, KIA0501 namespace); whatever auto mTLS, the DestinationRule
 * that contradicts a DISABLE policy (KIA0506 mesh, KIA0505 namespace).
 */
import { selects } from '../../../authz/policy/policy-set.js';
import type { CheckContext } from '../context.js';
import { findingOn, label, type Finding } from '../finding.js';
import { MESH_WIDE_HOST, enablesMtls, namespaceWideHost, scopeMode, tlsModeFor, type PeerAuthentication } from '../mtls-status.js';

const hasSelector = (pa: PeerAuthentication) => Object.keys(pa.spec.selector?.matchLabels ?? {}).length > 0;

/** KIA0002: every selector-less PeerAuthentication of a namespace that has more than one. */
export function checkSelectorlessDuplicates(peerAuthentications: readonly PeerAuthentication[]): Finding[] {
  const byNamespace = new Map<string, PeerAuthentication[]>();
  for (const pa of peerAuthentications.filter((p) => !hasSelector(p))) byNamespace.set(pa.namespace, [...(byNamespace.get(pa.namespace) ?? []), pa]);
  const findings: Finding[] = [];
  for (const [namespace, list] of byNamespace) {
    if (list.length < 2) continue;
    for (const pa of list) {
      const others = list.filter((o) => o !== pa).map(label);
      findings.push(findingOn(pa, 'KIA0002', 'spec.selector', `More than one selector-less PeerAuthentication in namespace "${namespace}" (Istio uses the oldest)`, { references: others }));
    }
  }
  return findings;
}

/** KIA0003: selector PeerAuthentications of one namespace that select the same workload. */
function checkSelectorOverlaps(context: CheckContext): Finding[] {
  const { workloads } = context.inventory;
  if (!workloads) return [];
  const involved = new Map<PeerAuthentication, { workload: string; others: Set<string> }>();
  for (const workload of workloads) {
    const matching = context.peerAuthentications.filter((pa) => pa.namespace === workload.namespace && hasSelector(pa) && selects(pa.spec.selector?.matchLabels, workload.labels));
    if (matching.length < 2) continue;
    for (const pa of matching) {
      const entry = involved.get(pa) ?? { workload: `${workload.kind} ${workload.namespace}/${workload.name}`, others: new Set<string>() };
      for (const other of matching) if (other !== pa) entry.others.add(label(other));
      involved.set(pa, entry);
    }
  }
  return [...involved].map(([pa, { workload, others }]) =>
    findingOn(pa, 'KIA0003', 'spec.selector', `More than one PeerAuthentication applies to ${workload}`, { references: [...others, workload] }));
}

function checkMtlsModes(context: CheckContext, pa: PeerAuthentication): Finding[] {
  const { mesh } = context.inventory;
  const mode = scopeMode(pa);
  const rules = context.mtls.rulesVisibleTo(pa.namespace);
  const meshModes = rules.map((dr) => tlsModeFor(dr, MESH_WIDE_HOST));
  if (pa.namespace === mesh.rootNamespace) {
    if (mode === 'STRICT' && !mesh.autoMtls && !meshModes.includes('ISTIO_MUTUAL')) {
      return [findingOn(pa, 'KIA0401', 'spec.mtls', 'Mesh-wide STRICT mTLS, auto mTLS is off, and no DestinationRule for "*.local" sets ISTIO_MUTUAL', { value: mode })];
    }
    const enabling = rules.find((dr) => enablesMtls(tlsModeFor(dr, MESH_WIDE_HOST)));
    if (mode === 'DISABLE' && enabling) {
      return [findingOn(pa, 'KIA0506', 'spec.mtls', `Mesh-wide mTLS is DISABLE, but DestinationRule ${enabling.namespace}/${enabling.name} enables it for "*.local"`, { value: mode, references: [label(enabling)] })];
    }
    return [];
  }
  const host = namespaceWideHost(pa.namespace, mesh.identityDomain);
  if (mode === 'STRICT' && !mesh.autoMtls && !rules.some((dr) => tlsModeFor(dr, host) === 'ISTIO_MUTUAL' || tlsModeFor(dr, MESH_WIDE_HOST) === 'ISTIO_MUTUAL')) {
    return [findingOn(pa, 'KIA0501', 'spec.mtls', `Namespace-wide STRICT mTLS, auto mTLS is off, and no DestinationRule for "${host}" or "*.local" sets ISTIO_MUTUAL`, { value: mode })];
  }
  if (mode !== 'DISABLE') return [];
  // Kiali walks the DestinationRules in order: the first namespace-wide one decides; else a mesh-wide one enabling mTLS.
  let meshEnabling;
  for (const dr of rules) {
    const own = tlsModeFor(dr, host);
    if (enablesMtls(own)) return [findingOn(pa, 'KIA0505', 'spec.mtls', `Namespace-wide mTLS is DISABLE, but DestinationRule ${dr.namespace}/${dr.name} enables it for "${host}"`, { value: mode, references: [label(dr)] })];
    if (own === 'DISABLE') return [];
    if (enablesMtls(tlsModeFor(dr, MESH_WIDE_HOST))) meshEnabling ??= dr;
  }
  if (!meshEnabling) return [];
  return [findingOn(pa, 'KIA0505', 'spec.mtls', `Namespace-wide mTLS is DISABLE, but the mesh-wide DestinationRule ${meshEnabling.namespace}/${meshEnabling.name} enables it and none for "${host}" disables it`, { value: mode, references: [label(meshEnabling)] })];
}

/** KIA0003 and the mTLS mode checks; KIA0002 needs no inventory and runs with the policy checks (policy-checks.ts). */
export function checkPeerAuthentications(context: CheckContext): Finding[] {
  return [
    ...checkSelectorOverlaps(context),
    ...context.peerAuthentications.flatMap((pa) => checkMtlsModes(context, pa)),
  ];
}
