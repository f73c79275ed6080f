/**
 * What the rest of idgate sees of signing keys. The issuer signs with `Signer`; the filter, when it
 * shares a process with the issuer, verifies through `VerificationKeySet` without any HTTP.
 */
import type { JWK, JWTPayload } from 'jose';

export interface PublicJwks {
  keys: JWK[];
}

export interface VerificationKeySet {
  /** Every public key that may verify a token now: current, next (published before it signs), retired. */
  jwks(): Promise<PublicJwks>;
  /** Called when the key set changes (rotation), so caches can refresh. Returns an unsubscribe. */
  onChange?(listener: () => void): () => void;
}

export interface Signer extends VerificationKeySet {
  /** The algorithm of the current signing key (RS256, ES256, EdDSA). */
  algorithm(): Promise<string>;
  /** Signs a JWT with the current key; `typ` is the JOSE header type (e.g. "at+jwt"). */
  sign(payload: JWTPayload, options?: { typ?: string }): Promise<string>;
  /** Seconds a client may cache /keys without missing a key that will sign (Cache-Control max-age). */
  jwksMaxAgeSeconds(): Promise<number>;
}
