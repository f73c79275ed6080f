/**
 * Hashes for what storage must never hold in plaintext: client secrets (`sha256$<base64url>`, checked in
 * constant time) and refresh-token secrets / authorization codes (bare SHA-256 base64url, used as IDs).
 * Plain SHA-256 is enough here because every input is a high-entropy random value, not a password.
 */
import { createHash, hash as oneShotHash, timingSafeEqual } from 'node:crypto';

const SECRET_HASH_PREFIX = 'sha256$';
const SHA256_BYTES = 32;

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** `sha256$<base64url>` of a client secret: the `Client.secretHash` format. */
export function hashSecret(secret: string): string {
  return SECRET_HASH_PREFIX + sha256(secret).toString('base64url');
}

/**
 * True if `secret` hashes to `hash` (a `hashSecret` result). Constant-time in the secret; a hash in any
 * other format, or of the wrong length, never verifies.
 */
export function verifySecret(secret: string, hash: string): boolean {
  if (!hash.startsWith(SECRET_HASH_PREFIX)) return false;
  const encoded = hash.slice(SECRET_HASH_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return false;
  const expected = Buffer.from(encoded, 'base64url');
  if (expected.length !== SHA256_BYTES) return false;
  return timingSafeEqual(sha256(secret), expected);
}

/** SHA-256 base64url of a token or code: the ID (or `tokenHash`) it is stored under. */
export function hashToken(token: string): string {
  // node:crypto's one-shot hash (UTF-8 for a string), straight to text: no Hash object, no Buffer, and
  // a refresh grant hashes twice.
  return oneShotHash('sha256', token, 'base64url');
}
