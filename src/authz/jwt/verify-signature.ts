/**
 * The two JWS signature paths, measured against each other in bench/filter-jwt.ts: node:crypto's
 * synchronous verify (default), and jose's compactVerify (WebCrypto). Both take a key already bound to
 * its algorithms; the claims are checked by the caller the same way for both.
 */
import { constants, verify as cryptoVerify } from 'node:crypto';
import { compactVerify } from 'jose';
import type { JwsAlgorithm } from '../config.js';
import type { VerificationKey } from './verification-key.js';

export type SignatureVerifier = (token: string, signingInput: string, signature: Buffer, alg: JwsAlgorithm, key: VerificationKey) => boolean | Promise<boolean>;

const HASH: Record<JwsAlgorithm, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null, Ed25519: null,
};

export const nodeCryptoVerifier: SignatureVerifier = (_token, signingInput, signature, alg, { key }) => {
  const data = Buffer.from(signingInput);
  try {
    if (alg.startsWith('PS')) {
      return cryptoVerify(HASH[alg], data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    }
    if (alg.startsWith('ES')) return cryptoVerify(HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return cryptoVerify(HASH[alg], data, key, signature);
  } catch {
    return false;
  }
};

export const joseVerifier: SignatureVerifier = async (token, _signingInput, _signature, alg, { key }) => {
  try {
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
};

/** The path `filter.verifier` names; access tokens and DPoP proofs are verified through the same one. */
export function signatureVerifier(name: 'node-crypto' | 'jose'): SignatureVerifier {
  return name === 'jose' ? joseVerifier : nodeCryptoVerifier;
}
