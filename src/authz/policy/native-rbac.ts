/**
 * Native RBAC for setups without Istio: a Role lists permissions (hosts, methods, paths, ports); a
 * RoleBinding gives roles to subjects (groups, claims, request principals, peer principals). Each
 * binding becomes an ALLOW AuthorizationPolicy, so it runs in the same engine with the same semantics.
 */
import type { AuthorizationPolicySpec, PolicyResource, Rule } from './resources.js';

type Resource<K extends PolicyResource['kind']> = Extract<PolicyResource, { kind: K }>;

export function bindingToPolicy(binding: Resource<'RoleBinding'>, roles: ReadonlyMap<string, Resource<'Role'>>): AuthorizationPolicySpec {
  const operations = binding.spec.roles.flatMap((name) => roles.get(`${binding.namespace}/${name}`)?.spec.permissions ?? []);
  const to = operations.map((permission) => ({ operation: { ...permission } }));
  const groupsClaim = binding.spec.groupsClaim ?? 'groups';
  const rules: Rule[] = binding.spec.subjects.map((subject) => {
    const rule: Rule = to.length > 0 ? { to } : {};
    if (subject.group !== undefined) rule.when = [{ key: `request.auth.claims[${groupsClaim}]`, values: [subject.group] }];
    if (subject.claim) rule.when = [{ key: `request.auth.claims[${subject.claim.name.split('.').join('][')}]`, values: subject.claim.values }];
    if (subject.requestPrincipal !== undefined) rule.from = [{ source: { requestPrincipals: [subject.requestPrincipal] } }];
    if (subject.peerPrincipal !== undefined) rule.from = [{ source: { principals: [subject.peerPrincipal] } }];
    return rule;
  });
  return { action: 'ALLOW', rules, ...(binding.spec.selector ? { selector: binding.spec.selector } : {}) };
}
