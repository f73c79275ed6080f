/**
 * Recovery codes: single-use codes handed out once at enrollment, for the day the phone or key is
 * lost. Each is 80 random bits, written as four groups of four base32 letters and digits, so storing
 * its SHA-256 is enough (the same reasoning as for refresh tokens: a high-entropy value, not a
 * password). Typing is forgiving: case, spaces and dashes do not matter.
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '../../storage/secrets.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const LENGTH = 16;

function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let code = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      code += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return code.slice(0, LENGTH).match(/.{4}/g)!.join('-');
}

/** `count` fresh codes, as shown to the person, and their hashes, as stored. */
export function newRecoveryCodes(count: number): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, newCode);
  return { codes, hashes: codes.map(recoveryCodeHash) };
}

/** The stored hash of a code as typed (or as generated). */
export function recoveryCodeHash(typed: string): string {
  return hashToken(typed.toLowerCase().replace(/[\s-]/g, ''));
}

/** True for text shaped like a recovery code (so a TOTP code typed in the wrong field is not counted as one). */
export function looksLikeRecoveryCode(typed: string): boolean {
  return new RegExp(`^[${ALPHABET}]{${LENGTH}}$`).test(typed.toLowerCase().replace(/[\s-]/g, ''));
}
