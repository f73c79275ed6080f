/**
 * Why a sender-constrained token was refused: its DPoP proof (RFC 9449 §4.3) or its binding to a key
 * or certificate (RFC 9449 §7.1, RFC 8705 §3). Each failure has a stable code for the audit line
 * (`jwtError`) and the OAuth error the challenge carries: `invalid_dpop_proof` for a proof that does
 * not hold, `invalid_token` for a token that is not being used the way its binding requires.
 */

export type BindingErrorCode =
  | 'ERR_DPOP_PROOF_MISSING'
  | 'ERR_DPOP_PROOF_MULTIPLE'
  | 'ERR_DPOP_PROOF_MALFORMED'
  | 'ERR_DPOP_PROOF_TYPE'
  | 'ERR_DPOP_PROOF_ALG'
  | 'ERR_DPOP_PROOF_KEY'
  | 'ERR_DPOP_PROOF_SIGNATURE'
  | 'ERR_DPOP_PROOF_HTM'
  | 'ERR_DPOP_PROOF_HTU'
  | 'ERR_DPOP_PROOF_IAT'
  | 'ERR_DPOP_PROOF_ATH'
  | 'ERR_DPOP_PROOF_REPLAYED'
  | 'ERR_DPOP_KEY_MISMATCH'
  | 'ERR_DPOP_BOUND_AS_BEARER'
  | 'ERR_DPOP_NOT_BOUND'
  | 'ERR_CERTIFICATE_MISSING'
  | 'ERR_CERTIFICATE_MISMATCH'
  | 'ERR_CNF_UNSUPPORTED';

/** Plain ASCII without quotes or backslashes: each message also goes into a quoted error_description. */
const MESSAGES: Record<BindingErrorCode, string> = {
  ERR_DPOP_PROOF_MISSING: 'the DPoP proof is missing: send it in the DPoP header',
  ERR_DPOP_PROOF_MULTIPLE: 'more than one DPoP proof was sent',
  ERR_DPOP_PROOF_MALFORMED: 'the DPoP proof is not a well-formed proof JWT (jti, htm, htu, iat and ath are required)',
  ERR_DPOP_PROOF_TYPE: 'the DPoP proof typ is not dpop+jwt',
  ERR_DPOP_PROOF_ALG: 'the DPoP proof alg is not allowed',
  ERR_DPOP_PROOF_KEY: 'the DPoP proof jwk is not a usable public key',
  ERR_DPOP_PROOF_SIGNATURE: 'the DPoP proof signature does not verify',
  ERR_DPOP_PROOF_HTM: 'the DPoP proof htm is not the request method',
  ERR_DPOP_PROOF_HTU: 'the DPoP proof htu is not the request URL',
  ERR_DPOP_PROOF_IAT: 'the DPoP proof iat is outside the accepted window',
  ERR_DPOP_PROOF_ATH: 'the DPoP proof ath is not the hash of this access token',
  ERR_DPOP_PROOF_REPLAYED: 'the DPoP proof was already used',
  ERR_DPOP_KEY_MISMATCH: 'the DPoP proof key is not the key the token is bound to',
  ERR_DPOP_BOUND_AS_BEARER: 'the token is DPoP-bound: send it with Authorization: DPoP and a DPoP proof',
  ERR_DPOP_NOT_BOUND: 'the token is not DPoP-bound: send it with Authorization: Bearer',
  ERR_CERTIFICATE_MISSING: 'the token is bound to a client certificate and the request came without one',
  ERR_CERTIFICATE_MISMATCH: 'the token is bound to another client certificate',
  ERR_CNF_UNSUPPORTED: 'the token cnf claim is malformed or names a confirmation method the filter cannot check',
};

export class BindingError extends Error {
  /** The OAuth error code of the challenge (RFC 9449 §7.1, RFC 6750 §3.1). */
  readonly oauthError: 'invalid_dpop_proof' | 'invalid_token';
  constructor(readonly code: BindingErrorCode) {
    super(MESSAGES[code]);
    this.name = 'BindingError';
    this.oauthError = code.startsWith('ERR_DPOP_PROOF_') ? 'invalid_dpop_proof' : 'invalid_token';
  }
}
