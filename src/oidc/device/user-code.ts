/**
 * User codes of the device flow (RFC 8628 §6.1): eight characters from an alphabet without vowels
 * (no words) and without look-alikes (no 0/O, 1/I), shown as BCDF-GHJK, Dex's format. What a person
 * types is read case- and punctuation-insensitively; only the hash of the normalised code is stored.
 */
import { randomInt } from 'node:crypto';
import { hashToken } from '../../storage/secrets.js';

/** Dex's alphabet (storage.validUserCharacters): 20 consonants, 20^8 codes (34.5 bits). */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A fresh code, normalised (eight letters of the alphabet). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** A normalised code as shown to the person: XXXX-XXXX. */
export function formatUserCode(normalised: string): string {
  return `${normalised.slice(0, 4)}-${normalised.slice(4)}`;
}

/**
 * The code as stored (upper case, separators and spaces dropped), or undefined if what was typed
 * cannot be a user code (wrong length, a character outside the alphabet).
 */
export function normaliseUserCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[\s\-_.]/g, '');
  if (code.length !== LENGTH) return undefined;
  for (const char of code) if (!USER_CODE_ALPHABET.includes(char)) return undefined;
  return code;
}

/** The index key of a device request: the SHA-256 of the normalised code. */
export function userCodeHash(normalised: string): string {
  return hashToken(normalised);
}
