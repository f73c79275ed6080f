/**
 * Test keys and tokens: RSA and P-256 signing keys with kids, a JWKS for them, and a token minter
 * (jose) so every test states the claims it needs.
 */
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function testKey(kid: string, alg: TestKey['alg'] = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

export function jwksOf(...keys: TestKey[]): { keys: JWK[] } {
  return { keys: keys.map((k) => k.publicJwk) };
}

export interface MintOptions {
  /** Seconds from now; default 3600. */
  expiresIn?: number;
  notBefore?: number;
  kid?: string | null;
  alg?: string;
  now?: number;
}

export async function mint(key: TestKey, claims: JWTPayload, options: MintOptions = {}): Promise<string> {
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  const header: { alg: string; kid?: string; typ: string } = { alg: options.alg ?? key.alg, typ: 'JWT' };
  if (options.kid !== null) header.kid = options.kid ?? key.kid;
  const jwt = new SignJWT({ ...claims }).setProtectedHeader(header).setIssuedAt(nowSec).setExpirationTime(nowSec + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(nowSec + options.notBefore);
  return jwt.sign(key.privateKey);
}

/** A token with alg "none" (unsigned), which must never verify. */
export function unsignedToken(claims: JWTPayload): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

/** A token whose payload was changed after signing. */
export function tamper(token: string, claims: JWTPayload): string {
  const [h, , s] = token.split('.');
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}
