/**
 * mTLS as Kiali sees it (util/mtls/status.go, kubernetes/istio.go): the modes a PeerAuthentication
 * and a DestinationRule set at mesh and namespace scope, and the resulting status of a namespace or a
 * workload — what KIA0105 asks ("is mTLS enabled where this policy applies?") and what the
 * PeerAuthentication and DestinationRule checks compare.
 */
import { selects } from '../../authz/policy/policy-set.js';
import type { DestinationRuleResource, PolicyResource } from '../../authz/policy/resources.js';
import { exportedTo, type Service } from './inventory.js';
import type { MeshSettings } from './mesh-config.js';

export type PeerAuthentication = Extract<PolicyResource, { kind: 'PeerAuthentication' }>;

/** The host of a mesh-wide DestinationRule, as Istio's docs write it. */
export const MESH_WIDE_HOST = '*.local';

export function namespaceWideHost(namespace: string, identityDomain: string): string {
  return `*.${namespace}.${identityDomain}`;
}

/** The DestinationRule's tls mode ("" without trafficPolicy.tls; DISABLE when tls has no mode, the proto default). */
export function tlsMode(dr: DestinationRuleResource): string {
  const tls = dr.spec.trafficPolicy?.tls;
  return tls ? (tls.mode ?? 'DISABLE') : '';
}

/** The tls mode of a DestinationRule for exactly this host ("" for another host). */
export function tlsModeFor(dr: DestinationRuleResource, host: string): string {
  return dr.spec.host === host ? tlsMode(dr) : '';
}

export const enablesMtls = (mode: string) => mode === 'ISTIO_MUTUAL' || mode === 'MUTUAL';

/** The PeerAuthentication's mode ("" without `mtls`; UNSET when `mtls` has no mode), whatever its selector. */
export function peerMode(pa: PeerAuthentication): string {
  return pa.spec.mtls ? (pa.spec.mtls.mode ?? 'UNSET') : '';
}

/** The mode it sets for a whole namespace (or the mesh): "" for any policy with a selector, as Kiali reads it. */
export function scopeMode(pa: PeerAuthentication): string {
  return pa.spec.selector ? '' : peerMode(pa);
}

export type Status = 'ENABLED' | 'PARTIALLY_ENABLED' | 'NOT_ENABLED' | 'DISABLED';

/** Kiali's TlsStatus: the DestinationRule and PeerAuthentication modes of a scope, and what they make together. */
export interface TlsStatus {
  dr: string;
  pa: string;
  overall: Status | '';
}

export const NONE: TlsStatus = { dr: '', pa: '', overall: '' };

/**
 * Kiali's finalStatus: mTLS "enabled" by a MUTUAL/ISTIO_MUTUAL DestinationRule or, without one, by auto
 * mTLS; with STRICT (or PERMISSIVE where permissive counts) that is ENABLED, DISABLE with mTLS
 * disabled is DISABLED, nothing at all NOT_ENABLED, anything else PARTIALLY_ENABLED.
 */
export function finalStatus(dr: string, pa: string, autoMtls: boolean, permissive: boolean): TlsStatus {
  const enabled = enablesMtls(dr) || (dr === '' && autoMtls);
  const disabled = dr === 'DISABLE' || (dr === '' && autoMtls);
  let overall: Status = 'PARTIALLY_ENABLED';
  if ((pa === 'STRICT' || (pa === 'PERMISSIVE' && permissive)) && enabled) overall = 'ENABLED';
  else if (pa === 'DISABLE' && disabled) overall = 'DISABLED';
  else if (pa === '' && dr === '') overall = 'NOT_ENABLED';
  return { dr, pa, overall };
}

/** Kiali's OverallMtlsStatus: the namespace's own status when it settles it, else what it inherits from the mesh. */
export function overallStatus(ns: TlsStatus, mesh: TlsStatus, autoMtls: boolean, permissive: boolean): Status {
  const defined = (s: TlsStatus) => s.overall === 'ENABLED' || s.overall === 'DISABLED';
  if (defined(ns)) return ns.overall as Status;
  if (ns.overall === 'PARTIALLY_ENABLED') return overallStatus(NONE, finalStatus(ns.dr || mesh.dr, ns.pa || mesh.pa, autoMtls, permissive), autoMtls, permissive);
  if (defined(mesh)) return mesh.overall as Status;
  if (mesh.pa === '' && mesh.dr === '') return 'NOT_ENABLED';
  if ((mesh.pa === 'DISABLE' && mesh.dr === '') || (mesh.dr === 'DISABLE' && mesh.pa === '')) return 'DISABLED';
  const halfEnabled = autoMtls && (((mesh.pa === 'STRICT' || (mesh.pa === 'PERMISSIVE' && permissive)) && mesh.dr === '') || (enablesMtls(mesh.dr) && mesh.pa === ''));
  if (halfEnabled) return 'ENABLED';
  return 'PARTIALLY_ENABLED';
}

/** What the mTLS checks read: every PeerAuthentication and DestinationRule, the mesh, the services. */
export class MtlsView {
  constructor(
    readonly peerAuthentications: readonly PeerAuthentication[],
    readonly destinationRules: readonly DestinationRuleResource[],
    readonly mesh: MeshSettings,
    readonly services: readonly Service[] = [],
  ) {}

  /** The DestinationRules a namespace sees (exportTo, else the mesh's defaultDestinationRuleExportTo). */
  rulesVisibleTo(namespace: string): DestinationRuleResource[] {
    return this.destinationRules.filter((dr) => exportedTo(dr.spec.exportTo ?? this.mesh.defaultDestinationRuleExportTo, dr.namespace, namespace));
  }

  inNamespace(namespace: string): PeerAuthentication[] {
    return this.peerAuthentications.filter((pa) => pa.namespace === namespace);
  }

  meshPolicies(): PeerAuthentication[] {
    return this.inNamespace(this.mesh.rootNamespace);
  }

  /** Kiali's MtlsEnabledChecker.IsMtlsEnabledFor, with permissive counted as enabled. */
  mtlsEnabledFor(namespace: string, labels: Readonly<Record<string, string>>): boolean {
    const rules = this.rulesVisibleTo(namespace);
    const workload = this.workloadStatus(namespace, labels, rules);
    if (workload === 'ENABLED') return true;
    if (workload === 'DISABLED') return false;
    // Kiali combines the two without counting permissive (its status struct there has AllowPermissive unset).
    let status = this.overall(this.namespaceStatus(namespace, rules), this.meshStatus(rules), false);
    // No PeerAuthentication and no DestinationRule, with auto mTLS: traffic uses mTLS.
    if (status === 'NOT_ENABLED' && this.mesh.autoMtls) status = 'ENABLED';
    return status === 'ENABLED';
  }

  /** The modes a namespace sets for itself: its first selector-less PeerAuthentication's, its `*.<ns>.<domain>` DestinationRule's. */
  namespaceModes(namespace: string, rules: readonly DestinationRuleResource[] = this.rulesVisibleTo(namespace)): { dr: string; pa: string } {
    const host = namespaceWideHost(namespace, this.mesh.identityDomain);
    const dr = rules.map((r) => tlsModeFor(r, host)).find((m) => m !== '') ?? '';
    const pa = this.inNamespace(namespace).map(scopeMode).find((m) => m !== '') ?? '';
    return { dr, pa };
  }

  /** The modes the mesh sets: the root namespace's first selector-less PeerAuthentication's, the `*.local` DestinationRule's. */
  meshModes(rules: readonly DestinationRuleResource[] = this.rulesVisibleTo(this.mesh.rootNamespace)): { dr: string; pa: string } {
    const dr = rules.map((r) => tlsModeFor(r, MESH_WIDE_HOST)).find((m) => m !== '') ?? '';
    const pa = this.meshPolicies().map(scopeMode).find((m) => m !== '') ?? '';
    return { dr, pa };
  }

  private namespaceStatus(namespace: string, rules: readonly DestinationRuleResource[]): TlsStatus {
    const { dr, pa } = this.namespaceModes(namespace, rules);
    return this.final(dr, pa, true);
  }

  private meshStatus(rules: readonly DestinationRuleResource[]): TlsStatus {
    const { dr, pa } = this.meshModes(rules);
    return { dr, pa, overall: this.overall(NONE, this.final(dr, pa, true), true) };
  }

  private final(dr: string, pa: string, permissive: boolean): TlsStatus {
    return finalStatus(dr, pa, this.mesh.autoMtls, permissive);
  }

  private overall(ns: TlsStatus, mesh: TlsStatus, permissive: boolean): Status {
    return overallStatus(ns, mesh, this.mesh.autoMtls, permissive);
  }

  /** Kiali's WorkloadMtlsStatus: the first selector PeerAuthentication of the namespace whose selector the labels satisfy. */
  private workloadStatus(namespace: string, labels: Readonly<Record<string, string>>, rules: readonly DestinationRuleResource[]): Status {
    for (const pa of this.inNamespace(namespace)) {
      const selector = pa.spec.selector?.matchLabels;
      if (!selector || Object.keys(selector).length === 0 || !selects(selector, labels)) continue;
      const mode = peerMode(pa);
      if (mode === 'STRICT') return 'ENABLED';
      if (mode === 'DISABLE') return 'DISABLED';
      if (mode !== 'PERMISSIVE') continue;
      if (rules.length === 0) return 'NOT_ENABLED';
      for (const service of this.services) {
        if (service.namespace !== namespace || Object.keys(service.selector).length === 0 || !selects(selector, service.selector)) continue;
        for (const dr of rules.filter((r) => namesService(r, service, this.mesh.identityDomain))) {
          const drMode = tlsMode(dr);
          if (enablesMtls(drMode)) return 'ENABLED';
          if (drMode === 'DISABLE') return 'DISABLED';
        }
      }
      return 'NOT_ENABLED';
    }
    return 'NOT_ENABLED';
  }
}

/** Kiali's FilterByHost: the DestinationRule's host names this service in one of its four spellings. */
function namesService(dr: DestinationRuleResource, service: Service, identityDomain: string): boolean {
  const { host } = dr.spec;
  const base = `${service.name}.${service.namespace}`;
  return (host === service.name && dr.namespace === service.namespace) || host === base || host === `${base}.svc` || host === `${base}.${identityDomain}`;
}
