/**
 * The `sessions` section: the browser's login session and its cookie. Dex's session keys idgate does
 * not implement are refused with the reason (here and on static clients).
 */
import { z } from 'zod';
import { duration } from '../duration.js';

/** Refuses a Dex (master) session key idgate does not implement, saying why. */
export const unsupportedSessionKey = (reason: string) => z.unknown().refine((value) => value === undefined, { message: reason }).optional();

/**
 * Dex's `sessions` (master): the browser's login session (src/sessions/), shared by every client of the
 * issuer. The cookie holds a random value only; the session ends absoluteLifetime after it started, or
 * validIfNotUsedFor after its last use, whichever comes first.
 */
export const sessionsSchema = z.strictObject({
  cookieName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 letters, digits, "_" or "-"' })
    .refine((name) => name !== 'idgate_browser' && name !== 'idgate_device_csrf', { message: 'is the name of another idgate cookie' })
    .default('idgate_session'),
  absoluteLifetime: duration('24h', { positive: true }),
  validIfNotUsedFor: duration('1h', { positive: true }),
  rememberMeCheckedByDefault: unsupportedSessionKey('is not supported: idgate has no remember-me choice; the session cookie lasts as long as the browser session, the session itself at most sessions.absoluteLifetime'),
  cookieEncryptionKey: unsupportedSessionKey('is not needed: the session cookie holds only a random value, whose hash names the session in storage; there is nothing in it to encrypt'),
  ssoSharedWithDefault: unsupportedSessionKey('is not supported: a login session is shared with every client of the issuer (Dex\'s per-client ssoSharedWith is not implemented); a client that wants a fresh login sends prompt=login or max_age'),
});
