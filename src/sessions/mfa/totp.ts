/**
 * TOTP (RFC 6238) as authenticator apps implement it: HMAC-SHA-1, 30-second steps, 6 digits, one step
 * of clock drift tolerated either way. Codes come from the otpauth library; this module matches a code
 * to its time step (newest first, compared in constant time) so the caller can refuse a step that was
 * already used, and builds the otpauth:// URI an enrollment QR code carries.
 */
import { timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted before and after the current one. */
export const TOTP_DRIFT_STEPS = 1;

function totpOf(secret: string, label = 'idgate', issuer = ''): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(secret) });
}

/** A new shared secret: 20 random bytes (RFC 4226's recommended length), base32. */
export function newTOTPSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** What the QR code holds: otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30 */
export function totpURI(secret: string, account: { issuer: string; name: string }): string {
  return totpOf(secret, account.name, account.issuer).toString();
}

/** The code a person types, without the spaces apps show in the middle. */
export function normalizeCode(code: string): string {
  return code.replace(/[\s-]/g, '');
}

/** The time step whose code `code` is, within the drift window around `nowMs`; undefined if none. */
export function matchingStep(secret: string, code: string, nowMs: number): number | undefined {
  const typed = normalizeCode(code);
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(typed)) return undefined;
  const totp = totpOf(secret);
  const current = Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
  // Newest first: of two steps with the same code (one in a million), the later is recorded as used.
  for (let step = current + TOTP_DRIFT_STEPS; step >= current - TOTP_DRIFT_STEPS; step--) {
    const expected = totp.generate({ timestamp: step * TOTP_PERIOD_SECONDS * 1000 });
    if (timingSafeEqual(Buffer.from(expected), Buffer.from(typed))) return step;
  }
  return undefined;
}
