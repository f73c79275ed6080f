/** Unguessable identifiers (auth request IDs, CSRF tokens, codes): random bytes, base64url. */
import { randomBytes } from 'node:crypto';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
