/**
 * IDG0301: an AuthorizationPolicy the filter enforces uses a peer identity (principals, namespaces,
 * serviceAccounts, trustDomains and their negations; `when` on source.principal, source.namespace,
 * source.serviceAccount, source.trustDomain) where the filter's PeerAuthentication merge
 * (PolicySet.peerAuthenticationFor) is not STRICT for its workloads. A plaintext request then has no
 * peer identity: a positive field never matches it (an ALLOW denies it, a DENY lets it through) and a
 * negative one always does (an ALLOW lets it in, a DENY refuses it).
 */
import { PEER_IDENTITY_ATTRIBUTES } from '../../../authz/policy/condition-keys.js';
import { PolicySet } from '../../../authz/policy/policy-set.js';
import type { CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';

const PEER_FIELDS = [
  ['principals', 'notPrincipals'], ['namespaces', 'notNamespaces'], ['serviceAccounts', 'notServiceAccounts'], ['trustDomains', 'notTrustDomains'],
] as const;

function effect(action: string, negative: boolean): string {
  if (action === 'DENY') return negative ? 'it always matches, so this DENY refuses it' : 'it never matches, so plaintext traffic escapes this DENY';
  return negative ? 'it always matches, so this rule allows plaintext traffic' : 'it never matches, so this rule denies plaintext traffic';
}

export function checkPeerIdentityWithoutStrict(context: Pick<CheckContext, 'authorizationPolicies' | 'peerAuthentications'>, rootNamespace: string): Finding[] {
  const peers = new PolicySet(context.peerAuthentications, rootNamespace);
  const findings: Finding[] = [];
  for (const policy of context.authorizationPolicies) {
    const action = policy.spec.action ?? 'ALLOW';
    if (action === 'CUSTOM') continue; // the proxy enforces it, not idgate
    const mode = peers.peerAuthenticationFor({ namespace: policy.namespace, labels: policy.spec.selector?.matchLabels ?? {} })(undefined);
    if (mode === 'STRICT') continue;
    const where = policy.namespace === rootNamespace ? 'mesh-wide' : `in namespace "${policy.namespace}"${policy.spec.selector ? ' for the selected workloads' : ''}`;
    const report = (path: string, value: string, negative: boolean) =>
      findingOn(policy, 'IDG0301', path, `needs a peer identity, but mTLS is ${mode} ${where}: a plaintext request has none, and ${effect(action, negative)}`, { value });
    (policy.spec.rules ?? []).forEach((rule, r) => {
      (rule.from ?? []).forEach(({ source }, f) => {
        for (const [field, negated] of PEER_FIELDS) {
          if (source[field]?.length) findings.push(report(`spec.rules[${r}].from[${f}].source.${field}`, source[field].join(', '), false));
          if (source[negated]?.length) findings.push(report(`spec.rules[${r}].from[${f}].source.${negated}`, source[negated].join(', '), true));
        }
      });
      (rule.when ?? []).forEach((condition, w) => {
        if (!PEER_IDENTITY_ATTRIBUTES.has(condition.key)) return;
        if (condition.values?.length) findings.push(report(`spec.rules[${r}].when[${w}]`, condition.key, false));
        if (condition.notValues?.length) findings.push(report(`spec.rules[${r}].when[${w}]`, condition.key, true));
      });
    });
  }
  return findings;
}
