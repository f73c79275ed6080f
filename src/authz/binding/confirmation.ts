/**
 * A token's confirmation claim (`cnf`, RFC 7800) as the filter enforces it: `jkt`, the RFC 7638
 * SHA-256 thumbprint of the DPoP key (RFC 9449 §6.1), and `x5t#S256`, the SHA-256 of the client
 * certificate's DER (RFC 8705 §3.1), both base64url. Any other confirmation method names a key the
 * filter has no way to check the request against, so such a token is refused rather than taken as a
 * bearer token. Read once per verified payload (cached payloads are the same object on every hit).
 */
import type { JWTPayload } from 'jose';
import { BindingError } from './binding-error.js';

/** What `request.auth.binding` is for an authenticated request: the bindings its token carries. */
export type BindingKind = 'mtls' | 'dpop' | 'none';

export interface Confirmation {
  /** cnf.jkt: the DPoP key's thumbprint. */
  jkt?: string;
  /** cnf["x5t#S256"]: the client certificate's thumbprint. */
  certificateThumbprint?: string;
  /** One shared, frozen array per combination: nothing is allocated per request. */
  kinds: readonly BindingKind[];
}

/** A SHA-256 digest in unpadded base64url: 43 characters, the last one carrying 4 zero bits. */
const SHA256_BASE64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** request.auth.binding of a bearer token. */
export const UNBOUND_KINDS: readonly BindingKind[] = Object.freeze(['none'] as const);
const UNBOUND: Confirmation = Object.freeze({ kinds: UNBOUND_KINDS });
const KINDS = {
  mtls: Object.freeze(['mtls'] as const),
  dpop: Object.freeze(['dpop'] as const),
  both: Object.freeze(['mtls', 'dpop'] as const),
};

const read = new WeakMap<object, Confirmation>();

/** The token's confirmation; throws ERR_CNF_UNSUPPORTED for a cnf it cannot enforce. */
export function confirmationOf(payload: JWTPayload): Confirmation {
  const known = read.get(payload);
  if (known) return known;
  const confirmation = parse(payload.cnf);
  read.set(payload, confirmation);
  return confirmation;
}

function parse(cnf: unknown): Confirmation {
  if (cnf === undefined) return UNBOUND;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw new BindingError('ERR_CNF_UNSUPPORTED');
  const members = Object.keys(cnf);
  if (members.length === 0 || members.some((m) => m !== 'jkt' && m !== 'x5t#S256')) throw new BindingError('ERR_CNF_UNSUPPORTED');
  const { jkt, 'x5t#S256': x5t } = cnf as Record<string, unknown>;
  for (const value of [jkt, x5t]) {
    if (value !== undefined && (typeof value !== 'string' || !SHA256_BASE64URL.test(value))) throw new BindingError('ERR_CNF_UNSUPPORTED');
  }
  const out: Confirmation = { kinds: jkt !== undefined && x5t !== undefined ? KINDS.both : jkt !== undefined ? KINDS.dpop : KINDS.mtls };
  if (jkt !== undefined) out.jkt = jkt as string;
  if (x5t !== undefined) out.certificateThumbprint = x5t as string;
  return Object.freeze(out);
}
