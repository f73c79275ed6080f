/**
 * KIA0105 (Kiali's authorization/mtls_enabled_checker.go): an AuthorizationPolicy uses a field that
 * only an mTLS peer has — `principals`, `notPrincipals`, `namespaces`, `notNamespaces`, or a `when`
 * on source.namespace, source.principal, connection.sni — where Kiali's mTLS status for its namespace
 * and selector is not enabled. (IDG0301 asks the same of idgate's own PeerAuthentication merge.)
 */
import type { CheckContext } from '../context.js';
import { findingOn, type Finding } from '../finding.js';

const SOURCE_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const;
const WHEN_KEYS = new Set(['source.namespace', 'source.principal', 'connection.sni']);

export function checkMtlsEnabled(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const policy of context.authorizationPolicies) {
    const paths: Array<[string, string]> = [];
    (policy.spec.rules ?? []).forEach((rule, r) => {
      (rule.from ?? []).forEach(({ source }, f) => {
        for (const field of SOURCE_FIELDS) if (source[field]?.length) paths.push([`spec.rules[${r}].from[${f}].source.${field}`, source[field].join(', ')]);
      });
      (rule.when ?? []).forEach((condition, w) => {
        if (WHEN_KEYS.has(condition.key)) paths.push([`spec.rules[${r}].when[${w}]`, condition.key]);
      });
    });
    if (paths.length === 0) continue;
    if (context.mtls.mtlsEnabledFor(policy.namespace, policy.spec.selector?.matchLabels ?? {})) continue;
    for (const [path, value] of paths) {
      findings.push(findingOn(policy, 'KIA0105', path, 'This field requires mTLS to be enabled, and mTLS is not enabled where the policy applies', { value }));
    }
  }
  return findings;
}
