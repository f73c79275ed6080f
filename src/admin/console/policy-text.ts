/**
 * A policy in words, for the console's policy pages: what it applies to, and per rule who may call
 * (sources), what (operations: methods, paths, hosts, ports) and under which conditions — Istio's
 * semantics spelled out (entries of `from`/`to` are alternatives, fields inside one entry must all
 * match). Each part keeps the field path, so the page can give the line the loader found it on.
 */
import type { DestinationRuleResource, Operation, PolicyResource, Rule, Source } from '../../authz/policy/resources.js';

export interface Clause {
  /** "peer identity", "method", "path" ... */
  field: string;
  /** "is", "is not" */
  relation: 'is' | 'is not';
  values: readonly string[];
}

export interface RuleText {
  index: number;
  /** The field path of the rule (`spec.rules[1]`), for its line. */
  path: string;
  /** Alternatives: any one of these sources (all clauses of one); empty: any caller. */
  from: Clause[][];
  /** Alternatives: any one of these operations; empty: any request. */
  to: Clause[][];
  /** All must hold. */
  when: Clause[];
}

export interface PolicyText {
  /** What it applies to, in words. */
  appliesTo: string;
  /** Its effect or settings in one line ("ALLOW", "mTLS STRICT", ...). */
  summary: string;
  rules: RuleText[];
  /** Extra lines (jwtRules, port modes, role permissions, binding subjects). */
  details: string[];
}

const SOURCE_FIELDS: ReadonlyArray<[keyof Source, string, Clause['relation']]> = [
  ['principals', 'peer identity', 'is'], ['notPrincipals', 'peer identity', 'is not'],
  ['requestPrincipals', 'token principal (iss/sub)', 'is'], ['notRequestPrincipals', 'token principal (iss/sub)', 'is not'],
  ['namespaces', 'caller namespace', 'is'], ['notNamespaces', 'caller namespace', 'is not'],
  ['serviceAccounts', 'caller service account', 'is'], ['notServiceAccounts', 'caller service account', 'is not'],
  ['trustDomains', 'caller trust domain', 'is'], ['notTrustDomains', 'caller trust domain', 'is not'],
  ['ipBlocks', 'peer address', 'is'], ['notIpBlocks', 'peer address', 'is not'],
  ['remoteIpBlocks', 'client address', 'is'], ['notRemoteIpBlocks', 'client address', 'is not'],
];

const OPERATION_FIELDS: ReadonlyArray<[keyof Operation, string, Clause['relation']]> = [
  ['methods', 'method', 'is'], ['notMethods', 'method', 'is not'],
  ['paths', 'path', 'is'], ['notPaths', 'path', 'is not'],
  ['hosts', 'host', 'is'], ['notHosts', 'host', 'is not'],
  ['ports', 'port', 'is'], ['notPorts', 'port', 'is not'],
];

function clauses<T extends object>(value: T, fields: ReadonlyArray<[keyof T, string, Clause['relation']]>): Clause[] {
  const out: Clause[] = [];
  for (const [key, field, relation] of fields) {
    const values = value[key] as readonly string[] | undefined;
    if (values !== undefined) out.push({ field, relation, values });
  }
  return out;
}

export function ruleText(rule: Rule, index: number): RuleText {
  const when: Clause[] = [];
  for (const condition of rule.when ?? []) {
    if (condition.values !== undefined) when.push({ field: condition.key, relation: 'is', values: condition.values });
    if (condition.notValues !== undefined) when.push({ field: condition.key, relation: 'is not', values: condition.notValues });
  }
  return {
    index,
    path: `spec.rules[${index}]`,
    from: (rule.from ?? []).map((entry) => clauses(entry.source, SOURCE_FIELDS)),
    to: (rule.to ?? []).map((entry) => clauses(entry.operation, OPERATION_FIELDS)),
    when,
  };
}

/** "workloads labelled app=web" / "every workload in namespace shop" / "every workload in the mesh". */
export function selectorText(selector: Readonly<Record<string, string>> | undefined, namespace: string, rootNamespace: string): string {
  const labels = Object.entries(selector ?? {});
  if (labels.length > 0) return `workloads in ${namespace} labelled ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`;
  return namespace === rootNamespace ? 'every workload in the mesh (root namespace)' : `every workload in namespace ${namespace}`;
}

export function policyText(resource: PolicyResource | DestinationRuleResource, rootNamespace: string): PolicyText {
  switch (resource.kind) {
    case 'AuthorizationPolicy': {
      const spec = resource.spec;
      const refs = spec.targetRefs ?? (spec.targetRef ? [spec.targetRef] : []);
      const appliesTo = refs.length > 0 ? `targetRefs ${refs.map((r) => `${r.kind}/${r.name}`).join(', ')} (idgate cannot tell which requests: IDG0502)` : selectorText(spec.selector?.matchLabels, resource.namespace, rootNamespace);
      const action = spec.action ?? 'ALLOW';
      const dryRun = resource.annotations['istio.io/dry-run'] === 'true' ? ' (dry run: decides nothing, only logged)' : '';
      const rules = (spec.rules ?? []).map(ruleText);
      const summary = action === 'CUSTOM' ? `CUSTOM (provider ${spec.provider?.name ?? '?'}): enforced by the proxy, not by idgate${dryRun}`
        : rules.length === 0 ? `${action} with no rules: ${action === 'ALLOW' ? 'matches nothing, so it denies every request (deny-all)' : 'matches nothing'}${dryRun}`
          : `${action} a request that matches any rule below${dryRun}`;
      return { appliesTo, summary, rules, details: [] };
    }
    case 'PeerAuthentication': {
      const ports = Object.entries(resource.spec.portLevelMtls ?? {}).map(([port, setting]) => `port ${port}: ${setting.mode ?? 'UNSET'}`);
      return { appliesTo: selectorText(resource.spec.selector?.matchLabels, resource.namespace, rootNamespace), summary: `mTLS ${resource.spec.mtls?.mode ?? (resource.spec.mtls ? 'UNSET' : 'not set (inherits)')}`, rules: [], details: ports };
    }
    case 'RequestAuthentication': {
      const details = (resource.spec.jwtRules ?? []).map((rule) => {
        const keys = rule.jwks ? 'inline keys' : rule.jwksUri ? `keys from ${rule.jwksUri}` : "keys from the issuer's discovery document";
        return `tokens of ${rule.issuer}${rule.audiences?.length ? ` for audiences ${rule.audiences.join(', ')}` : ' (any audience)'}, ${keys}`;
      });
      return { appliesTo: selectorText(resource.spec.selector?.matchLabels, resource.namespace, rootNamespace), summary: 'verifies tokens; a request without one is anonymous, one with a bad token is denied', rules: [], details };
    }
    case 'Role':
      return {
        appliesTo: `role ${resource.name}`,
        summary: 'grants the permissions below to the subjects of its bindings',
        rules: [],
        details: resource.spec.permissions.map((p) => [p.methods && `methods ${p.methods.join(', ')}`, p.paths && `paths ${p.paths.join(', ')}`, p.hosts && `hosts ${p.hosts.join(', ')}`, p.ports && `ports ${p.ports.join(', ')}`].filter(Boolean).join(' · ') || 'any request'),
      };
    case 'RoleBinding':
      return {
        appliesTo: selectorText(resource.spec.selector?.matchLabels, resource.namespace, rootNamespace),
        summary: `gives roles ${resource.spec.roles.join(', ')} (ALLOW)`,
        rules: [],
        details: resource.spec.subjects.map((s) => s.group !== undefined ? `group ${s.group}` : s.claim ? `claim ${s.claim.name} is one of ${s.claim.values.join(', ')}` : s.requestPrincipal !== undefined ? `token principal ${s.requestPrincipal}` : `peer identity ${s.peerPrincipal}`),
      };
    case 'DestinationRule': {
      const tls = resource.spec.trafficPolicy?.tls;
      return { appliesTo: `traffic to ${resource.spec.host}`, summary: `client TLS ${tls ? (tls.mode ?? 'DISABLE') : 'not set'}`, rules: [], details: (resource.spec.subsets ?? []).map((s) => `subset ${s.name}${s.labels ? ` (${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(', ')})` : ' (no labels)'}`) };
    }
  }
}
