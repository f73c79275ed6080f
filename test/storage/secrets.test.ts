// Client-secret and token hashing: the formats storage relies on, and that nothing else verifies.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, hashToken, verifySecret } from '../../src/storage/secrets.js';

describe('hashSecret', () => {
  it('produces sha256$<base64url> of the secret', () => {
    const expected = createHash('sha256').update('s3cret').digest('base64url');
    expect(hashSecret('s3cret')).toBe(`sha256$${expected}`);
    expect(hashSecret('s3cret')).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
  });

  it('hashes different secrets differently and the same secret the same way', () => {
    expect(hashSecret('a')).not.toBe(hashSecret('b'));
    expect(hashSecret('a')).toBe(hashSecret('a'));
  });
});

describe('verifySecret', () => {
  const hash = hashSecret('correct horse battery staple');

  it('accepts the secret that was hashed', () => {
    expect(verifySecret('correct horse battery staple', hash)).toBe(true);
  });

  it('accepts non-ASCII secrets', () => {
    expect(verifySecret('pässwörd-🔑', hashSecret('pässwörd-🔑'))).toBe(true);
  });

  it.each([
    ['a different secret', 'correct horse battery stapler'],
    ['a prefix of the secret', 'correct horse'],
    ['the empty string', ''],
    ['the hash itself', hash],
  ])('rejects %s', (_label, candidate) => {
    expect(verifySecret(candidate, hash)).toBe(false);
  });

  it.each([
    ['the bare digest without prefix', hash.slice('sha256$'.length)],
    ['another algorithm prefix', hash.replace('sha256$', 'sha512$')],
    ['a truncated digest', hash.slice(0, -2)],
    ['a digest with padding', `${hash}=`],
    ['standard base64 with padding', `sha256$${createHash('sha256').update('correct horse battery staple').digest('base64')}`],
    ['an empty digest', 'sha256$'],
    ['the plaintext', 'correct horse battery staple'],
  ])('never verifies against %s', (_label, badHash) => {
    expect(verifySecret('correct horse battery staple', badHash)).toBe(false);
  });
});

describe('hashToken', () => {
  it('is the SHA-256 of the token in base64url, without a prefix', () => {
    expect(hashToken('abc')).toBe(createHash('sha256').update('abc').digest('base64url'));
    expect(hashToken('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('differs for different tokens', () => {
    expect(hashToken('code-1')).not.toBe(hashToken('code-2'));
  });
});
