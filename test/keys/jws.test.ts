// The node:crypto compact signer: what it signs verifies with jose under exactly the key's algorithm,
// the header is {alg, kid[, typ]}, and a key cannot sign under an algorithm it was not made for.
import { generateKeyPairSync } from 'node:crypto';
import { base64url, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, SIGNING_ALGORITHMS, toPublicJwk } from '../../src/keys/generate.js';
import { compactSigner } from '../../src/keys/jws.js';
import type { JsonWebKey } from '../../src/storage/storage.js';

describe('compact signer', () => {
  for (const algorithm of SIGNING_ALGORITHMS) {
    it(`${algorithm}: signs a JWT that jose verifies with the public key, and only under ${algorithm}`, async () => {
      const { privateJwk, publicJwk } = await generateSigningKey(algorithm);
      const signer = compactSigner(privateJwk);
      const token = signer.sign({ sub: 'alice', iss: 'https://idgate.example', name: 'Ålice "A" <x>' }, 'at+jwt');
      expect(decodeProtectedHeader(token)).toEqual({ alg: algorithm, kid: privateJwk.kid, typ: 'at+jwt' });
      const key = await importJWK(publicJwk as JWK, algorithm);
      const { payload } = await jwtVerify(token, key, { algorithms: [algorithm], typ: 'at+jwt' });
      expect(payload).toEqual({ sub: 'alice', iss: 'https://idgate.example', name: 'Ålice "A" <x>' });
      // No typ: the header has only alg and kid.
      expect(decodeProtectedHeader(signer.sign({ sub: 'bob' }))).toEqual({ alg: algorithm, kid: privateJwk.kid });
      // A changed payload does not verify.
      const [header, , signature] = token.split('.');
      const forged = `${header}.${base64url.encode(JSON.stringify({ sub: 'mallory' }))}.${signature}`;
      await expect(jwtVerify(forged, key, { algorithms: [algorithm] })).rejects.toThrow(/signature/);
    });
  }

  it('produces ES256 signatures in the JOSE (r || s) form, 64 bytes, not DER', async () => {
    const { privateJwk } = await generateSigningKey('ES256');
    const signature = compactSigner(privateJwk).sign({ sub: 'x' }).split('.')[2]!;
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
  });

  it('refuses an algorithm outside the allow-list and a key that does not fit its alg', async () => {
    const { privateJwk: rsa } = await generateSigningKey('RS256');
    const { privateJwk: ec } = await generateSigningKey('ES256');
    expect(() => compactSigner({ ...rsa, alg: 'none' })).toThrow(/not allowed/);
    expect(() => compactSigner({ ...rsa, alg: 'HS256' })).toThrow(/not allowed/);
    expect(() => compactSigner({ ...rsa, alg: 'PS256' })).toThrow(/not allowed/);
    expect(() => compactSigner({ ...rsa, alg: 'ES256' })).toThrow(/RSA key cannot sign ES256/);
    expect(() => compactSigner({ ...ec, alg: 'RS256' })).toThrow(/EC P-256 key cannot sign RS256/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    expect(() => compactSigner({ ...p384, kid: 'p384', alg: 'ES256' } as JsonWebKey)).toThrow(/P-384 key cannot sign ES256/);
    expect(() => compactSigner(toPublicJwk(ec))).toThrow(/no private part/);
  });
});
