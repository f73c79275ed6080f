/**
 * Generates signing key pairs (RS256 RSA-2048, ES256 P-256, EdDSA Ed25519) as JWKs, with the RFC 7638
 * thumbprint as `kid`, and strips private members for publication. All cryptography is jose's.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JsonWebKey } from '../storage/storage.js';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

/** Every algorithm the signer can use; also the allow-list for verifying our own tokens. */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

/** JWK members that only a private key has (RSA, EC, OKP); none of them may ever reach /keys. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

export interface GeneratedKey {
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}

export async function generateSigningKey(algorithm: SigningAlgorithm): Promise<GeneratedKey> {
  const options = algorithm === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true };
  const { privateKey } = await generateKeyPair(algorithm, options);
  const exported = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(toPublicJwk(exported as JsonWebKey));
  const privateJwk = { ...exported, kid, alg: algorithm, use: 'sig' } as JsonWebKey;
  return { privateJwk, publicJwk: toPublicJwk(privateJwk) };
}

/** The public part of a JWK: every private member removed. */
export function toPublicJwk(jwk: JsonWebKey): JsonWebKey {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  delete copy.key_ops;
  delete copy.ext;
  return copy as JsonWebKey;
}
