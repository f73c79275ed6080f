/**
 * Remembers the allow mutation (identity headers, headers and query parameters to remove) of a
 * verified token, so a token served from the verified-token cache does not rebuild it on every
 * request — and so transports can keep their encoding of it (see transport/grpc-response.ts).
 *
 * An entry hangs off the token cache's payload object (one per verified token, never shared between
 * tokens) and is used only when every other input of `upstreamMutation` is the same: the jwtRule
 * object (a policy reload compiles new ones, so it never matches a reloaded rule), the token's
 * location, the peer principal and the incoming identity-prefixed headers. A memoized mutation is
 * frozen: whoever receives it may share it but never change it.
 */
import type { CheckInput } from './check-input.js';
import { upstreamMutation, type UpstreamMutation } from './identity-headers.js';
import type { Authentication } from './jwt/authenticate.js';
import type { PeerIdentity } from './peer/spiffe.js';

type Authenticated = Extract<Authentication, { kind: 'authenticated' }>;

interface MemoEntry {
  token: string;
  rule: Authenticated['rule'];
  locationKind: string;
  locationName: string;
  peerPrincipal: string | undefined;
  /** The request's own identity-prefixed header names, joined by "\n" (spoofing attempts to strip). */
  prefixed: string;
  mutation: UpstreamMutation;
}

/** Per token: a few variants at most (peers, reloads); the oldest goes first. */
const MAX_VARIANTS = 4;

export class UpstreamMutationMemo {
  private readonly byPayload = new WeakMap<object, MemoEntry[]>();

  constructor(private readonly prefix: string) {}

  /** The mutation for an allowed request; memoized for authenticated requests. */
  mutationFor(input: CheckInput, peer: PeerIdentity | undefined, auth: Authentication): UpstreamMutation {
    // Only a payload the token cache keeps comes back: memoizing against any other would be garbage at once.
    if (auth.kind !== 'authenticated' || !auth.kept) return upstreamMutation(input, this.prefix, peer, auth);
    const prefixed = this.prefixedHeaders(input);
    const peerPrincipal = peer?.principal;
    let entries = this.byPayload.get(auth.payload);
    if (entries) {
      for (const e of entries) {
        if (e.rule === auth.rule && e.token === auth.token && e.peerPrincipal === peerPrincipal && e.prefixed === prefixed
          && e.locationKind === auth.location.kind && e.locationName === auth.location.name) return e.mutation;
      }
    } else {
      this.byPayload.set(auth.payload, (entries = []));
    }
    const mutation = freeze(upstreamMutation(input, this.prefix, peer, auth));
    if (entries.length >= MAX_VARIANTS) entries.shift();
    entries.push({ token: auth.token, rule: auth.rule, locationKind: auth.location.kind, locationName: auth.location.name, peerPrincipal, prefixed, mutation });
    return mutation;
  }

  private prefixedHeaders(input: CheckInput): string {
    let names = '';
    for (const name in input.headers) if (name.startsWith(this.prefix)) names += `${name}\n`;
    return names;
  }
}

function freeze(mutation: UpstreamMutation): UpstreamMutation {
  for (const h of mutation.headers) Object.freeze(h);
  Object.freeze(mutation.headers);
  Object.freeze(mutation.headersToRemove);
  Object.freeze(mutation.queryParametersToRemove);
  return Object.freeze(mutation);
}
