/**
 * DPoP keys and proofs for the filter's tests, minted with jose as a client would (RFC 9449 §4.2),
 * with every field overridable so each negative test breaks exactly one rule; and the RFC 8705
 * thumbprint of a client certificate, computed with node's X509Certificate (independently of the
 * filter's own PEM unwrapping).
 */
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface DpopKey {
  alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 thumbprint: what cnf.jkt holds. */
  jkt: string;
}

export async function dpopKey(alg: DpopKey['alg'] = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/** base64url SHA-256 of the access token. */
export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export interface ProofOverrides {
  htm?: string;
  htu?: string;
  /** Seconds from now. */
  iatOffset?: number;
  jti?: string;
  /** null: no ath claim. */
  ath?: string | null;
  typ?: string;
  /** The header's jwk (default: the key's own public JWK). */
  jwk?: JWK;
  /** Extra claims or header parameters. */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

/** A proof for `method url` carrying `token`, signed by `key`. */
export async function dpopProof(key: DpopKey, method: string, url: string, token: string, overrides: ProofOverrides = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: overrides.jti ?? randomUUID(),
    htm: overrides.htm ?? method,
    htu: overrides.htu ?? url,
    iat: Math.floor(Date.now() / 1000) + (overrides.iatOffset ?? 0),
    ...(overrides.ath === null ? {} : { ath: overrides.ath ?? ath(token) }),
    ...overrides.claims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: overrides.typ ?? 'dpop+jwt', jwk: overrides.jwk ?? key.publicJwk, ...overrides.header })
    .sign(key.privateKey);
}

/** RFC 8705 x5t#S256 of a PEM certificate. */
export function certificateThumbprint(pem: string | Buffer): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/** The hex SHA-256 Envoy writes in XFCC Hash=. */
export function certificateSha256Hex(pem: string | Buffer): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}
