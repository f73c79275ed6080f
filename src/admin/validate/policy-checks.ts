/**
 * The checks that need the policy files alone — no inventory, no DestinationRule, no network — so
 * they run both in `idgate validate` and on every policy load and reload in serve (PolicyStore):
 * KIA0002, IDG0102/IDG0103 (inline JWKS), IDG0201/IDG0202, IDG0203, IDG0301, IDG0401. (KIA0102,
 * IDG0501 and IDG0502 come from the loader itself.)
 */
import type { JwsAlgorithm } from '../../authz/config.js';
import type { PathNormalizationOptions } from '../../authz/policy/normalize-path.js';
import type { PolicyResource } from '../../authz/policy/resources.js';
import { checkAllowNothing } from './checkers/allow-nothing.js';
import { checkInlineJwks, type LocatedJwtRule } from './checkers/jwt-keys.js';
import { checkSelectorlessDuplicates } from './checkers/peer-authentication.js';
import { checkPeerIdentityWithoutStrict } from './checkers/peer-identity.js';
import { checkShadowedRules } from './checkers/shadowed-rules.js';
import { checkUnreachablePaths } from './checkers/unreachable-paths.js';
import type { AuthorizationPolicy, RequestAuthentication } from './context.js';
import type { Finding } from './finding.js';
import type { PeerAuthentication } from './mtls-status.js';

export interface PolicyCheckOptions {
  rootNamespace: string;
  /** The filter's path normalization (pathNormalization, pathWithEscapedSlashesAction). */
  paths: Omit<PathNormalizationOptions, 'rawTarget'>;
  /** The filter's JWS algorithms: a key usable with none of them is no key. */
  algorithms: ReadonlySet<JwsAlgorithm>;
}

/** Each jwtRule of the RequestAuthentications, with where it is written. */
export function requestAuthenticationRules(resources: readonly PolicyResource[]): LocatedJwtRule[] {
  return resources
    .filter((r): r is RequestAuthentication => r.kind === 'RequestAuthentication')
    .flatMap((ra) => (ra.spec.jwtRules ?? []).map((rule, i) => ({ subject: ra, path: `spec.jwtRules[${i}]`, rule })));
}

export function checkPolicies(resources: readonly PolicyResource[], options: PolicyCheckOptions): Finding[] {
  const authorizationPolicies = resources.filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy');
  const peerAuthentications = resources.filter((r): r is PeerAuthentication => r.kind === 'PeerAuthentication');
  const paths = { ...options.paths, rawTarget: false };
  return [
    ...checkSelectorlessDuplicates(peerAuthentications),
    ...requestAuthenticationRules(resources).flatMap((rule) => checkInlineJwks(rule, options.algorithms)),
    ...checkAllowNothing({ authorizationPolicies, paths }),
    ...checkShadowedRules({ authorizationPolicies }, options.rootNamespace),
    ...checkPeerIdentityWithoutStrict({ authorizationPolicies, peerAuthentications }, options.rootNamespace),
    ...checkUnreachablePaths({ authorizationPolicies, paths }),
  ];
}
