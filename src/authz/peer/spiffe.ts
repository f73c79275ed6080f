/**
 * Peer identity derived as Istio does from the SPIFFE URI: principal = the URI without "spiffe://",
 * trust domain = its host, namespace = the segment after /ns/, service account = the segment after /sa/.
 */

export interface PeerIdentity {
  /** e.g. cluster.local/ns/default/sa/sleep */
  principal: string;
  trustDomain?: string;
  namespace?: string;
  /** "ns/sa" */
  serviceAccount?: string;
}

const SPIFFE = 'spiffe://';

export function peerIdentityFrom(uri: string | undefined): PeerIdentity | undefined {
  if (!uri) return undefined;
  if (!uri.startsWith(SPIFFE)) return { principal: uri };
  const principal = uri.slice(SPIFFE.length);
  const slash = principal.indexOf('/');
  const trustDomain = slash === -1 ? principal : principal.slice(0, slash);
  const segments = slash === -1 ? [] : principal.slice(slash + 1).split('/');
  const ns = segments.indexOf('ns');
  const sa = segments.indexOf('sa');
  const namespace = ns !== -1 ? segments[ns + 1] : undefined;
  const account = sa !== -1 ? segments[sa + 1] : undefined;
  return {
    principal,
    ...(trustDomain ? { trustDomain } : {}),
    ...(namespace ? { namespace } : {}),
    ...(namespace && account ? { serviceAccount: `${namespace}/${account}` } : {}),
  };
}
