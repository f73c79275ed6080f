/**
 * source.ip and remote.ip from what a proxy reports, with Istio's numTrustedProxies (Envoy's
 * xff_num_trusted_hops, counted from the right). One rule for every transport: the right-most
 * X-Forwarded-For entry is the address the proxy itself saw (Envoy with use_remote_address, nginx's
 * $proxy_add_x_forwarded_for and Traefik's ForwardAuth append it); everything left of it was written by
 * hops the filter may or may not trust, and only numTrustedProxies of them are believed.
 */
import { parseAddress } from '../policy/ip-match.js';

export interface ClientAddresses {
  /** The proxy's direct peer (source.ip). */
  sourceIp?: string;
  /** The original client as far as trusted hops tell (remote.ip); source.ip when they tell nothing. */
  remoteIp?: string;
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // Two different dotted-quad strings are different addresses; only IPv6 (and IPv4-mapped) spellings vary.
  if (!a.includes(':') && !b.includes(':')) return false;
  const x = parseAddress(a);
  const y = parseAddress(b);
  return x !== undefined && y !== undefined && x.version === y.version && x.value === y.value;
}

/**
 * `forwardedFor`: the X-Forwarded-For value as the proxy sent it. `directPeer`: the proxy's peer when
 * it reports it separately (Envoy's attributes.source.address, nginx's X-Real-IP): when the chain does
 * not end with it, the proxy did not append to X-Forwarded-For, so the header is the client's own and
 * is not believed at all.
 */
export function clientAddresses(forwardedFor: string | undefined, directPeer: string | undefined, numTrustedProxies: number): ClientAddresses {
  if (!forwardedFor) return directPeer ? { sourceIp: directPeer, remoteIp: directPeer } : {};
  const comma = forwardedFor.lastIndexOf(',');
  const last = (comma === -1 ? forwardedFor : forwardedFor.slice(comma + 1)).trim();
  if (directPeer !== undefined) {
    if (!sameAddress(last, directPeer)) return { sourceIp: directPeer, remoteIp: directPeer };
  } else if (parseAddress(last) === undefined) {
    return {};
  }
  const sourceIp = directPeer ?? last;
  if (numTrustedProxies === 0) return { sourceIp, remoteIp: last };
  const chain = forwardedFor.split(',');
  const index = chain.length - 1 - numTrustedProxies;
  if (index < 0) return { sourceIp, remoteIp: sourceIp };
  const remote = chain[index]!.trim();
  // A hop we trust wrote this entry; one that is not an address means the chain is not what we expect.
  return { sourceIp, remoteIp: parseAddress(remote) === undefined ? sourceIp : remote };
}
