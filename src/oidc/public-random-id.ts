/**
 * Random identifiers that are public once used: an access token's `jti` (in the token) and a refresh
 * family's rotation salt (stored in clear beside the hashes). They come from a pool of CSPRNG bytes
 * refilled by randomFillSync, as node:crypto's own randomUUID does, because one randomBytes call per
 * value costs several times the value (a buffer and a native job each). Each byte is handed out once.
 * Secrets (refresh-token secrets, codes, CSRF tokens) never come from here: they use randomBytes.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` (at most 4096) fresh random bytes, base64url. */
export function publicRandomId(bytes: number): string {
  if (bytes > POOL_BYTES) throw new RangeError(`publicRandomId draws at most ${POOL_BYTES} bytes`);
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return id;
}
