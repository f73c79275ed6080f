/**
 * Dex's refresh token as it travels on the wire: base64url without padding of the protobuf
 * `RefreshToken{refresh_id = 1, token = 2}` (Dex's server/internal/types.proto). idgate accepts it only
 * for families imported from Dex (`idgate import dex`), so tokens Dex issued keep working after a move.
 * The decoder is strict: exactly these two non-empty UTF-8 string fields, once each, nothing else.
 */

export interface DexRefreshToken {
  /** `refresh_token.id` in Dex's storage: the family ID once imported. */
  refreshId: string;
  /** `refresh_token.token`: the secret compared with the stored one. */
  token: string;
}

/** Dex's IDs and secrets are 26 characters; this bounds the work done on hostile input. */
const MAX_ENCODED_LENGTH = 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a varint (at most 4 bytes: lengths here are far below 2^28) at `offset`. */
function readLength(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 4 && offset + i < bytes.length; i++) {
    const byte = bytes[offset + i]!;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  return undefined;
}

/** The two fields of a Dex-format refresh token, or undefined if `text` is not exactly one. */
export function parseDexRefreshToken(text: string): DexRefreshToken | undefined {
  if (text.length === 0 || text.length > MAX_ENCODED_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Canonical encoding only: what decodes must encode back to the same text.
  if (bytes.toString('base64url') !== text) return undefined;
  const fields = new Map<number, string>();
  let offset = 0;
  while (offset < bytes.length) {
    const tag = bytes[offset]!;
    // Field 1 or 2, wire type 2 (length-delimited); each at most once.
    if (tag !== 0x0a && tag !== 0x12) return undefined;
    const field = tag >> 3;
    if (fields.has(field)) return undefined;
    const length = readLength(bytes, offset + 1);
    if (!length || length.value === 0 || length.next + length.value > bytes.length) return undefined;
    try {
      fields.set(field, utf8.decode(bytes.subarray(length.next, length.next + length.value)));
    } catch {
      return undefined;
    }
    offset = length.next + length.value;
  }
  const refreshId = fields.get(1);
  const token = fields.get(2);
  return refreshId !== undefined && token !== undefined ? { refreshId, token } : undefined;
}
