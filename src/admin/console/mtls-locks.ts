/**
 * The console's locks, computed as Kiali computes them (util/mtls/status.go with permissive not
 * counting, frontend components/MTls/*): the masthead's mesh-wide status from the root namespace's
 * selector-less PeerAuthentication and the `*.local` DestinationRule, and each namespace's from its own
 * selector-less PeerAuthentication and `*.<ns>.svc.<domain>` DestinationRule, with auto mTLS as the
 * mesh config sets it. Each lock says why, naming the modes it was computed from.
 */
import { finalStatus, NONE, overallStatus, type MtlsView, type Status } from '../validate/mtls-status.js';

export type LockIcon = 'full' | 'hollow' | 'open' | 'none';

export interface Lock {
  icon: LockIcon;
  /** Red (Kiali's danger colour): mTLS off, or a PeerAuthentication with errors. */
  danger: boolean;
  /** Kiali's status name (MTLS_ENABLED, ..., or the namespace's UNSET variants). */
  status: string;
  /** Kiali's short name, where it shows one (namespaces: Strict, Permissive, Disabled, Unset). */
  label: string;
  /** Kiali's message for the status. */
  message: string;
  /** What it was computed from. */
  why: string;
  /** The namespace sets nothing of its own and inherits the mesh's status (Kiali's down arrow). */
  inherited?: boolean;
}

const STATUS_NAMES: Record<Status, string> = {
  ENABLED: 'MTLS_ENABLED', PARTIALLY_ENABLED: 'MTLS_PARTIALLY_ENABLED', NOT_ENABLED: 'MTLS_NOT_ENABLED', DISABLED: 'MTLS_DISABLED',
};

function modes(scope: string, dr: string, pa: string, host: string, autoMtls: boolean): string {
  return `${scope}: PeerAuthentication ${pa || 'none'}, DestinationRule for ${host} ${dr || 'none'}, auto mTLS ${autoMtls ? 'on' : 'off'}`;
}

/** Kiali's MeshMtlsStatus (permissive does not count). */
export function meshStatus(view: MtlsView): Status {
  const { dr, pa } = view.meshModes();
  const auto = view.mesh.autoMtls;
  return overallStatus(NONE, finalStatus(dr, pa, auto, false), auto, false);
}

/**
 * The masthead: Kiali's MeshMTLSStatus. With auto mTLS on, ENABLED and PARTIALLY become their
 * "configured by default" variants and NOT_ENABLED shows auto mTLS's full lock (AUTO_DEFAULT). One
 * deliberate difference: a DISABLED mesh shows no lock even with auto mTLS on (Kiali's AUTO_DEFAULT
 * would show a full one while servers accept plaintext).
 */
export function meshLock(view: MtlsView): Lock {
  const status = meshStatus(view);
  const { dr, pa } = view.meshModes();
  const auto = view.mesh.autoMtls;
  const why = modes(`mesh (root namespace ${view.mesh.rootNamespace})`, dr, pa, '*.local', auto);
  const lock = (icon: LockIcon, name: string, message: string): Lock => ({ icon, danger: false, status: name, label: '', message, why });
  if (status === 'ENABLED') return auto ? lock('full', 'MTLS_ENABLED_DEFAULT', 'Mesh-wide mTLS is enabled, configured by default') : lock('full', 'MTLS_ENABLED', 'Mesh-wide mTLS is enabled');
  if (status === 'PARTIALLY_ENABLED') return auto ? lock('hollow', 'MTLS_PARTIALLY_ENABLED_DEFAULT', 'Mesh-wide TLS is partially enabled, configured by default') : lock('hollow', 'MTLS_PARTIALLY_ENABLED', 'Mesh-wide TLS is partially enabled');
  if (status === 'NOT_ENABLED' && auto) return lock('full', 'AUTO_DEFAULT', 'Automatic Mesh-wide mTLS is enabled');
  return lock('none', STATUS_NAMES[status], status === 'DISABLED' ? 'Mesh-wide mTLS is disabled' : 'Mesh-wide mTLS is not enabled');
}

/**
 * A namespace's lock (Kiali's namespace descriptors): a PeerAuthentication with validation errors is a
 * red open lock; no selector-less PeerAuthentication with a mode other than UNSET inherits the mesh's;
 * else Strict (full lock), Permissive (open lock), Disabled (red open lock).
 */
export function namespaceLock(view: MtlsView, namespace: string, peerAuthenticationErrors: boolean): Lock {
  const { dr, pa } = view.namespaceModes(namespace);
  const auto = view.mesh.autoMtls;
  const why = modes(`namespace ${namespace}`, dr, pa, `*.${namespace}.${view.mesh.identityDomain}`, auto);
  if (peerAuthenticationErrors) {
    return { icon: 'open', danger: true, status: 'MTLS_VALIDATION_ERROR', label: 'Validation error', message: 'mTLS PeerAuthentication has validation errors in this namespace', why };
  }
  if (pa === '' || pa === 'UNSET') {
    const mesh = meshStatus(view);
    const inherited = { label: 'Unset', why: `${why}; inherits the mesh: ${STATUS_NAMES[mesh]}`, inherited: true };
    if (mesh === 'ENABLED') return { icon: 'full', danger: false, status: 'UNSET_INHERITED_STRICT', message: 'No mTLS policy in this namespace; inherited Strict from mesh', ...inherited };
    if (mesh === 'DISABLED') return { icon: 'open', danger: true, status: 'UNSET_INHERITED_DISABLED', message: 'No mTLS policy in this namespace; inherited Disabled from mesh', ...inherited };
    return { icon: 'open', danger: false, status: 'UNSET', message: 'Inherit from parent, if has one. Otherwise treated as PERMISSIVE', ...inherited };
  }
  const status = finalStatus(dr, pa, auto, false).overall as Status;
  if (status === 'ENABLED') return { icon: 'full', danger: false, status: 'MTLS_ENABLED', label: 'Strict', message: 'mTLS is enabled for this namespace', why };
  if (status === 'DISABLED') return { icon: 'open', danger: true, status: 'MTLS_DISABLED', label: 'Disabled', message: 'mTLS is disabled for this namespace', why };
  return { icon: 'open', danger: false, status: 'MTLS_PARTIALLY_ENABLED', label: 'Permissive', message: 'mTLS is partially enabled for this namespace. Connection can be either plaintext or mTLS tunnel', why };
}
