/**
 * Every code `idgate validate` reports: Kiali's (same code, severity and meaning as Kiali's
 * checkDescriptors) and idgate's own IDGxxxx, with what each needs to run. The checkers, the text
 * summary, SARIF's rule list and docs/validate.md all read this one table.
 */

export type Severity = 'error' | 'warning' | 'info';

/** What a check needs beyond the policy files; without it the check is skipped and the text output says so. */
export type Need = 'namespaces' | 'workloads' | 'serviceAccounts' | 'services' | 'network' | 'config';

export interface CodeInfo {
  severity: Severity;
  /** Kiali's message for its codes; idgate's one-line meaning for IDG codes. */
  title: string;
  kinds: readonly string[];
  needs: readonly Need[];
  /** Also runs on every policy load and reload in serve (needs the policy files alone, no network). */
  onReload: boolean;
}

const AP = ['AuthorizationPolicy'];
const PA = ['PeerAuthentication'];
const DR = ['DestinationRule'];
const RA = ['RequestAuthentication'];

export const CODES = {
  KIA0002: { severity: 'error', title: 'More than one selector-less object in the same namespace', kinds: PA, needs: [], onReload: true },
  KIA0003: { severity: 'error', title: 'More than one object applied to the same workload', kinds: PA, needs: ['workloads'], onReload: false },
  KIA0004: { severity: 'warning', title: 'No matching workload found for the selector in this namespace', kinds: [...AP, ...PA, ...RA], needs: ['workloads'], onReload: false },
  KIA0101: { severity: 'warning', title: 'Namespace not found for this rule', kinds: AP, needs: ['namespaces'], onReload: false },
  KIA0102: { severity: 'warning', title: 'Only HTTP methods and Istio wildcards are allowed', kinds: AP, needs: [], onReload: true },
  KIA0104: { severity: 'error', title: 'This host has no matching entry in the service registry', kinds: AP, needs: ['services'], onReload: false },
  KIA0105: { severity: 'error', title: 'This field requires mTLS to be enabled', kinds: AP, needs: [], onReload: false },
  KIA0106: { severity: 'error', title: 'Service Account not found for this principal', kinds: AP, needs: ['serviceAccounts'], onReload: false },
  KIA0108: { severity: 'warning', title: 'Unable to verify principal, trust domain is not known', kinds: AP, needs: ['serviceAccounts'], onReload: false },
  KIA0201: { severity: 'warning', title: 'More than one DestinationRules for the same host subset combination', kinds: DR, needs: [], onReload: false },
  KIA0202: { severity: 'error', title: 'This host has no matching entry in the service registry (service, workload or service entries)', kinds: DR, needs: ['services'], onReload: false },
  KIA0203: { severity: 'warning', title: "This subset's labels are not found in any matching host", kinds: DR, needs: ['services', 'workloads'], onReload: false },
  KIA0204: { severity: 'warning', title: 'mTLS settings of a non-local Destination Rule are overridden', kinds: DR, needs: [], onReload: false },
  KIA0205: { severity: 'error', title: 'PeerAuthentication enabling mTLS at mesh level is missing', kinds: DR, needs: [], onReload: false },
  KIA0206: { severity: 'error', title: 'PeerAuthentication enabling namespace-wide mTLS is missing', kinds: DR, needs: [], onReload: false },
  KIA0207: { severity: 'error', title: 'PeerAuthentication with TLS strict mode found, it should be permissive', kinds: DR, needs: [], onReload: false },
  KIA0208: { severity: 'error', title: 'PeerAuthentication enabling mTLS found, permissive mode needed', kinds: DR, needs: [], onReload: false },
  KIA0209: { severity: 'warning', title: 'This subset has no labels', kinds: DR, needs: [], onReload: false },
  KIA0401: { severity: 'error', title: 'Mesh-wide Destination Rule enabling mTLS is missing', kinds: PA, needs: [], onReload: false },
  KIA0501: { severity: 'error', title: 'Destination Rule enabling namespace-wide mTLS is missing', kinds: PA, needs: [], onReload: false },
  KIA0505: { severity: 'error', title: 'Destination Rule disabling namespace-wide mTLS is missing', kinds: PA, needs: [], onReload: false },
  KIA0506: { severity: 'error', title: 'Destination Rule disabling mesh-wide mTLS is missing', kinds: PA, needs: [], onReload: false },
  IDG0001: { severity: 'error', title: "The document breaks Istio's validation rules or idgate's schema (warning: accepted, but not as written)", kinds: [], needs: [], onReload: true },
  IDG0101: { severity: 'error', title: 'The issuer or its JWKS cannot be fetched', kinds: RA, needs: ['network'], onReload: false },
  IDG0102: { severity: 'error', title: 'The JWKS has no key idgate can verify a token with', kinds: RA, needs: [], onReload: true },
  IDG0103: { severity: 'warning', title: 'Some keys of the JWKS are not usable and are skipped', kinds: RA, needs: [], onReload: true },
  IDG0104: { severity: 'warning', title: "An audience of idgate's own issuer matches no known client", kinds: RA, needs: ['config'], onReload: false },
  IDG0201: { severity: 'warning', title: 'This ALLOW policy can allow nothing: every rule has a condition no request meets', kinds: AP, needs: [], onReload: true },
  IDG0202: { severity: 'info', title: 'This ALLOW policy has no rules: it denies every request to its workloads', kinds: AP, needs: [], onReload: true },
  IDG0203: { severity: 'warning', title: 'This rule is shadowed: an earlier rule matches every request it matches', kinds: AP, needs: [], onReload: true },
  IDG0301: { severity: 'warning', title: 'A field that needs a peer identity is used where PeerAuthentication is not STRICT', kinds: AP, needs: [], onReload: true },
  IDG0401: { severity: 'warning', title: "A path pattern that no request matches once Envoy's normalization has run", kinds: AP, needs: [], onReload: true },
  IDG0501: { severity: 'warning', title: 'A CUSTOM policy: idgate ignores it, the proxy enforces it', kinds: AP, needs: [], onReload: true },
  IDG0502: { severity: 'error', title: 'targetRef/targetRefs: idgate does not support them and refuses the policy', kinds: [...AP, ...RA], needs: [], onReload: true },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** What a need means, for the "skipped" notes. */
export const NEED_DESCRIPTIONS: Record<Need, string> = {
  namespaces: 'no Namespace documents given',
  workloads: 'no Deployment/StatefulSet/DaemonSet/ReplicaSet/Pod documents given',
  serviceAccounts: 'no ServiceAccount or workload documents given',
  services: 'no Service documents given',
  network: '--offline',
  config: 'no --config (audiences are checked against its staticClients)',
};
