/**
 * Why a second factor was refused, as a stable code: the login pages word it for the person, the
 * audit line records the code, tests assert it.
 */

export type MFAErrorCode =
  /** The TOTP or recovery code is not one of this person's. */
  | 'invalid_code'
  /** A TOTP code of a time step that was already used (or an earlier one). */
  | 'code_reused'
  /** The WebAuthn response answers another challenge (another login's, or an old one). */
  | 'challenge_mismatch'
  /** The WebAuthn response names a credential this person has not registered. */
  | 'unknown_credential'
  /** The WebAuthn response does not verify (signature, origin, RP ID, flags, format). */
  | 'invalid_assertion'
  /** The authenticator's signature counter did not increase: a cloned authenticator, or a replay. */
  | 'counter_regression';

export class MFAError extends Error {
  constructor(
    readonly code: MFAErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MFAError';
  }
}
