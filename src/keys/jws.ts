/**
 * Compact JWS signing (RFC 7515) with node:crypto's synchronous sign, for the tokens idgate issues.
 * Measured in bench/sign.ts: jose's SignJWT goes through WebCrypto and costs markedly more CPU per RS256
 * signature than node:crypto with the same key (the filter chose node:crypto for verification the same
 * way). The discipline is jose's: an algorithm from the allow-list only, bound to its key type and
 * curve, so a key can never sign under an algorithm it was not made for; no `none`, no HMAC.
 */
import { createPrivateKey, sign, type JsonWebKey as NodeJsonWebKey, type KeyObject } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { JsonWebKey } from '../storage/storage.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './generate.js';

/** Each algorithm's key type (and curve), and the digest node:crypto needs (none for Ed25519). */
const ALGORITHM_KEYS: Record<SigningAlgorithm, { kty: string; crv?: string; digest: string | null }> = {
  RS256: { kty: 'RSA', digest: 'sha256' },
  ES256: { kty: 'EC', crv: 'P-256', digest: 'sha256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', digest: null },
};

export interface CompactSigner {
  readonly alg: SigningAlgorithm;
  readonly kid: string;
  /** `header.payload.signature`; the header is `{alg, kid}` plus `typ` when given. */
  sign(payload: JWTPayload, typ?: string): string;
}

/** A signer for one private JWK; throws if its `alg` is not allowed or does not fit the key. */
export function compactSigner(jwk: JsonWebKey): CompactSigner {
  const alg = jwk.alg as SigningAlgorithm;
  if (!SIGNING_ALGORITHMS.includes(alg)) throw new Error(`signing algorithm "${String(jwk.alg)}" is not allowed (allowed: ${SIGNING_ALGORITHMS.join(', ')})`);
  const expected = ALGORITHM_KEYS[alg];
  if (jwk.kty !== expected.kty || (expected.crv !== undefined && jwk.crv !== expected.crv)) {
    throw new Error(`a ${String(jwk.kty)}${jwk.crv ? ` ${String(jwk.crv)}` : ''} key cannot sign ${alg}`);
  }
  if (typeof jwk.d !== 'string') throw new Error(`key ${jwk.kid} has no private part`);
  const key: KeyObject = createPrivateKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
  const signingKey = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  const headers = new Map<string | undefined, string>();
  const encodedHeader = (typ: string | undefined): string => {
    let encoded = headers.get(typ);
    if (encoded === undefined) {
      encoded = Buffer.from(JSON.stringify(typ ? { alg, kid: jwk.kid, typ } : { alg, kid: jwk.kid })).toString('base64url');
      headers.set(typ, encoded);
    }
    return encoded;
  };
  return {
    alg,
    kid: jwk.kid,
    sign(payload, typ) {
      const input = `${encodedHeader(typ)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return `${input}.${sign(expected.digest, Buffer.from(input), signingKey).toString('base64url')}`;
    },
  };
}
