/**
 * Kiali's AuthorizationPolicy reference checks (authorization/namespace_method_checker.go,
 * no_host_checker.go, principals_checker.go): KIA0101 a `source.namespaces` pattern no namespace
 * matches, KIA0104 an `operation.hosts` service that is not in the registry, KIA0106 a principal whose
 * service account does not exist, KIA0108 a principal of a trust domain the mesh does not know.
 * (KIA0102, methods, is Istio validation: src/authz/policy/validate.ts reports it as the loader runs.)
 */
import type { AuthorizationPolicy, CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';
import { getHost, hostName } from '../hosts.js';

/** Kiali's NamespaceNames.MatchesPattern: exact, `prefix*`, `*suffix`, or `*` (some namespace exists). */
function namespaceMatches(pattern: string, namespaces: ReadonlySet<string>): boolean {
  if (pattern === '*') return namespaces.size > 0;
  if (namespaces.has(pattern)) return true;
  for (const ns of namespaces) {
    if (pattern.endsWith('*')) {
      if (pattern.length > 1 && ns.startsWith(pattern.slice(0, -1))) return true;
    } else if (pattern.startsWith('*') && pattern.length > 1 && ns.endsWith(pattern.slice(1))) return true;
  }
  return false;
}

/**
 * Hosts that Kiali does not look up in the registry, because Istio matches `hosts` against the Host
 * header: wildcards, names with two or more dots, and `a.b` where b is not a known namespace.
 */
function isHostHeaderPattern(host: string, namespace: string, namespaces: ReadonlySet<string>): boolean {
  const h = host.trim();
  if (h === '') return false;
  if (h.startsWith('*') || h.endsWith('*')) return true;
  const dots = h.split('.').length - 1;
  if (dots >= 2) return true;
  if (dots === 1) {
    const ns = h.slice(h.indexOf('.') + 1);
    return ns !== namespace && !namespaces.has(ns);
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** Kiali's principal match against SPIFFE-style names "td/ns/N/sa/S": exact, or `*` anywhere when it starts or ends with one. */
function principalExists(principal: string, accounts: readonly string[]): boolean {
  if (principal === '*') return true;
  if (principal.startsWith('*') || principal.endsWith('*')) {
    const pattern = new RegExp(`^${principal.split('*').map(escapeRegExp).join('.*')}$`);
    return accounts.some((a) => pattern.test(a));
  }
  return accounts.includes(principal);
}

function checkRules(policy: AuthorizationPolicy, context: CheckContext, accounts: readonly string[] | undefined, trustDomains: ReadonlySet<string>): Finding[] {
  const { inventory, registry, clusterNamespaces } = context;
  const findings: Finding[] = [];
  (policy.spec.rules ?? []).forEach((rule, r) => {
    (rule.from ?? []).forEach(({ source }, f) => {
      const at = `spec.rules[${r}].from[${f}].source`;
      if (inventory.namespaces) {
        (source.namespaces ?? []).forEach((ns, i) => {
          if (!namespaceMatches(ns, inventory.namespaces!)) findings.push(findingOn(policy, 'KIA0101', `${at}.namespaces[${i}]`, `Namespace not found for this rule: no namespace "${ns}"`, { value: ns }));
        });
      }
      if (accounts) {
        (source.principals ?? []).forEach((principal, i) => {
          if (principalExists(principal, accounts)) return;
          const slash = principal.indexOf('/ns/');
          const foreign = !principal.includes('*') && slash > 0 && !trustDomains.has(principal.slice(0, slash));
          findings.push(foreign
            ? findingOn(policy, 'KIA0108', `${at}.principals[${i}]`, `Unable to verify principal: trust domain "${principal.slice(0, slash)}" is not the mesh's (${[...trustDomains].join(', ')})`, { value: principal })
            : findingOn(policy, 'KIA0106', `${at}.principals[${i}]`, 'Service Account not found for this principal', { value: principal }));
        });
      }
    });
    if (!registry) return;
    (rule.to ?? []).forEach(({ operation }, t) => {
      (operation.hosts ?? []).forEach((host, i) => {
        if (isHostHeaderPattern(host, policy.namespace, clusterNamespaces)) return;
        const name = hostName(getHost(host, policy.namespace, clusterNamespaces, inventory.mesh.identityDomain));
        if (registry.visibleFrom(name, policy.namespace)) return;
        findings.push(findingOn(policy, 'KIA0104', `spec.rules[${r}].to[${t}].operation.hosts[${i}]`, `This host has no matching entry in the service registry (no Service ${name} visible from "${policy.namespace}")`, {
          value: host,
          ...(inventory.mesh.outboundAllowAny ? { severity: 'warning' as const } : {}),
        }));
      });
    });
  });
  return findings;
}

export function checkAuthorizationPolicyReferences(context: CheckContext): Finding[] {
  const { mesh, serviceAccounts } = context.inventory;
  const domains = [mesh.trustDomain, ...mesh.trustDomainAliases];
  const accounts = serviceAccounts
    ? [...serviceAccounts].flatMap((account) => {
        const [ns, sa] = account.split('/');
        return domains.map((td) => `${td}/ns/${ns}/sa/${sa}`);
      })
    : undefined;
  return context.authorizationPolicies.flatMap((policy) => checkRules(policy, context, accounts, new Set(domains)));
}
