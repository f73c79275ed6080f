/**
 * TOTP against an implementation written here from RFC 6238 and RFC 4226 with node:crypto alone (not
 * the otpauth library idgate uses), checked on the RFC's own test vector first.
 */
import { describe, expect, it } from 'vitest';
import { matchingStep, newTOTPSecret, totpURI } from '../../../src/sessions/mfa/totp.js';
import { base32Decode, hotp, totpAt } from '../../helpers/totp.js';

describe('TOTP (RFC 6238)', () => {
  it('agrees with the RFC 6238 test vector (SHA-1, T=59s, 8 digits 94287082)', () => {
    expect(hotp(Buffer.from('12345678901234567890'), 1, 8)).toBe('94287082');
  });

  it('accepts the current code and names its time step', () => {
    const secret = newTOTPSecret();
    const now = Date.UTC(2026, 0, 1, 12, 0, 10);
    expect(matchingStep(secret, totpAt(secret, now), now)).toBe(Math.floor(now / 30_000));
  });

  it('accepts one step of drift either way, not two', () => {
    const secret = newTOTPSecret();
    const now = Date.UTC(2026, 0, 1, 12, 0, 10);
    const step = Math.floor(now / 30_000);
    expect(matchingStep(secret, totpAt(secret, now - 30_000), now)).toBe(step - 1);
    expect(matchingStep(secret, totpAt(secret, now + 30_000), now)).toBe(step + 1);
    const farPast = totpAt(secret, now - 60_000);
    const farFuture = totpAt(secret, now + 60_000);
    // A code two steps off matches only if it equals a code in the window by chance (one in a million).
    if (![-1, 0, 1].some((d) => totpAt(secret, now + d * 30_000) === farPast)) expect(matchingStep(secret, farPast, now)).toBeUndefined();
    if (![-1, 0, 1].some((d) => totpAt(secret, now + d * 30_000) === farFuture)) expect(matchingStep(secret, farFuture, now)).toBeUndefined();
  });

  it('refuses a wrong code, and anything that is not six digits', () => {
    const secret = newTOTPSecret();
    const now = Date.now();
    const code = totpAt(secret, now);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(matchingStep(secret, wrong, now)).toBeUndefined();
    for (const bad of ['', '12345', '1234567', 'abcdef', `${code}0`]) expect(matchingStep(secret, bad, now)).toBeUndefined();
  });

  it('ignores the spaces apps show in a code', () => {
    const secret = newTOTPSecret();
    const now = Date.now();
    const code = totpAt(secret, now);
    expect(matchingStep(secret, `${code.slice(0, 3)} ${code.slice(3)}`, now)).toBe(Math.floor(now / 30_000));
  });

  it('puts the secret, issuer and parameters in the otpauth:// URI', () => {
    const uri = new URL(totpURI('JBSWY3DPEHPK3PXP', { issuer: 'Acme', name: 'jane@example.com' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(uri.searchParams.get('issuer')).toBe('Acme');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(decodeURIComponent(uri.pathname)).toContain('jane@example.com');
  });

  it('makes 160-bit secrets', () => {
    expect(base32Decode(newTOTPSecret())).toHaveLength(20);
  });
});
