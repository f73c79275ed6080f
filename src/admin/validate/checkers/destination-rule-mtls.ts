/**
 * Kiali's DestinationRule mTLS checks (destinationrules/*_mtls_checker.go): a mesh-wide ("*.local") or
 * namespace-wide ("*.<ns>.<domain>") DestinationRule that enables mTLS with auto mTLS off and no
 * PeerAuthentication enabling it (KIA0205 mesh, KIA0206 namespace), or that disables mTLS while a
 * STRICT PeerAuthentication requires it (KIA0207 namespace, KIA0208 mesh).
 */
import type { DestinationRuleResource } from '../../../authz/policy/resources.js';
import type { CheckContext } from '../context.js';
import { findingOn, label, type Finding } from '../finding.js';
import { MESH_WIDE_HOST, namespaceWideHost, scopeMode, tlsModeFor } from '../mtls-status.js';

const PATH = 'spec.trafficPolicy.tls.mode';
const enabling = (mode: string) => mode === 'STRICT' || mode === 'PERMISSIVE';

function checkRule(context: CheckContext, dr: DestinationRuleResource): Finding[] {
  const { mesh } = context.inventory;
  const meshPolicies = context.mtls.meshPolicies();
  const ownPolicies = context.mtls.inNamespace(dr.namespace);
  const nsHost = namespaceWideHost(dr.namespace, mesh.identityDomain);
  const nsMode = tlsModeFor(dr, nsHost);
  const meshMode = tlsModeFor(dr, MESH_WIDE_HOST);
  const findings: Finding[] = [];
  const strictMesh = meshPolicies.find((pa) => scopeMode(pa) === 'STRICT');

  if (nsMode === 'DISABLE') {
    // The namespace's own policies first, in order: the first that enables mTLS decides; a DISABLE one settles it too.
    let settled = false;
    for (const pa of ownPolicies) {
      const mode = scopeMode(pa);
      if (enabling(mode)) {
        if (mode === 'STRICT') findings.push(findingOn(dr, 'KIA0207', PATH, `This DestinationRule disables mTLS for "${nsHost}", but PeerAuthentication ${pa.namespace}/${pa.name} is STRICT: it should be PERMISSIVE`, { value: nsMode, references: [label(pa)] }));
        settled = true;
        break;
      }
      if (mode === 'DISABLE') settled = true;
    }
    if (!settled && strictMesh) findings.push(findingOn(dr, 'KIA0208', PATH, `This DestinationRule disables mTLS for "${nsHost}", but the mesh-wide PeerAuthentication ${strictMesh.namespace}/${strictMesh.name} is STRICT: PERMISSIVE is needed`, { value: nsMode, references: [label(strictMesh)] }));
  }
  if (meshMode === 'DISABLE' && strictMesh) {
    findings.push(findingOn(dr, 'KIA0208', PATH, `This DestinationRule disables mTLS mesh-wide, but PeerAuthentication ${strictMesh.namespace}/${strictMesh.name} is STRICT: PERMISSIVE is needed`, { value: meshMode, references: [label(strictMesh)] }));
  }
  if (mesh.autoMtls) return findings;
  const meshEnabled = meshPolicies.some((pa) => enabling(scopeMode(pa)));
  if (nsMode === 'ISTIO_MUTUAL' && !meshEnabled && !ownPolicies.some((pa) => enabling(scopeMode(pa)))) {
    findings.push(findingOn(dr, 'KIA0206', PATH, `This DestinationRule enables mTLS for "${nsHost}", auto mTLS is off, and no PeerAuthentication of "${dr.namespace}" or the mesh enables it`, { value: nsMode }));
  }
  if (meshMode === 'ISTIO_MUTUAL' && !meshEnabled) {
    findings.push(findingOn(dr, 'KIA0205', PATH, `This DestinationRule enables mTLS mesh-wide, auto mTLS is off, and no mesh-wide PeerAuthentication in "${mesh.rootNamespace}" enables it`, { value: meshMode }));
  }
  return findings;
}

export function checkDestinationRuleMtls(context: CheckContext): Finding[] {
  return context.destinationRules.flatMap((dr) => checkRule(context, dr));
}
