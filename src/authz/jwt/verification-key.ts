/**
 * A public JWK turned into a node:crypto KeyObject bound to the algorithms its type allows: an RSA key
 * verifies RS256..PS512 only, a P-256 key ES256 only, an Ed25519 key EdDSA (or its RFC 9864 name Ed25519) only, and a key whose JWK names an
 * `alg` only that one. This binding is what keeps a token from choosing how it is verified.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { JwsAlgorithm } from '../config.js';

export interface VerificationKey {
  kid?: string;
  algorithms: ReadonlySet<JwsAlgorithm>;
  key: KeyObject;
  jwk: JWK;
}

const BY_CURVE: Record<string, JwsAlgorithm[]> = { 'P-256': ['ES256'], 'P-384': ['ES384'], 'P-521': ['ES512'], Ed25519: ['EdDSA', 'Ed25519'] };

function algorithmsForKey(jwk: JWK): JwsAlgorithm[] {
  if (jwk.kty === 'RSA') return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  if ((jwk.kty === 'EC' || jwk.kty === 'OKP') && jwk.crv && BY_CURVE[jwk.crv]) return BY_CURVE[jwk.crv]!;
  return [];
}

/** Keys usable for signature verification among `allowed` algorithms; others are skipped. */
export function importVerificationKeys(jwks: { keys?: readonly JWK[] }, allowed: ReadonlySet<JwsAlgorithm>): VerificationKey[] {
  const out: VerificationKey[] = [];
  for (const jwk of jwks.keys ?? []) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    let algorithms = algorithmsForKey(jwk).filter((alg) => allowed.has(alg));
    if (jwk.alg !== undefined) algorithms = algorithms.filter((alg) => alg === jwk.alg);
    if (algorithms.length === 0) continue;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = jwk;
    try {
      const key = createPublicKey({ key: publicPart as JsonWebKey, format: 'jwk' });
      out.push({ ...(jwk.kid !== undefined ? { kid: jwk.kid } : {}), algorithms: new Set(algorithms), key, jwk: publicPart });
    } catch {
      // A key node:crypto cannot import is not usable; the JWKS may still hold good ones.
    }
  }
  return out;
}
