/** A person's registered second factors (sessions/mfa/): TOTP secrets, WebAuthn credentials, recovery codes. */
import type { EpochMs } from '../epoch-ms.js';

/** A TOTP secret (RFC 6238) a person enrolled for one authenticator (mfa.authenticators[].id). */
export interface TOTPCredential {
  authenticatorId: string;
  /** The shared secret, base32. */
  secret: string;
  /** The last time step a code was accepted for: codes of that step or earlier are refused (no reuse). */
  lastUsedStep: number;
  createdAt: EpochMs;
}

/** A WebAuthn credential (a passkey or security key) a person registered for one authenticator. */
export interface WebAuthnCredentialRecord {
  authenticatorId: string;
  /** The credential ID, base64url. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen: an assertion must carry a higher one, unless both are 0 (an authenticator that keeps none). */
  counter: number;
  transports?: string[];
  createdAt: EpochMs;
  lastUsedAt?: EpochMs;
}

/**
 * A person's second factors at one connector (sessions/mfa/). `id` is the person's `sub` (subjectOf
 * their user ID and the connector ID). The TOTP secrets are sealed at rest; recovery codes are kept
 * only as SHA-256 hashes (each is 80 random bits), and a used one is removed.
 */
export interface MFACredentials {
  id: string;
  connectorId: string;
  userId: string;
  totp: TOTPCredential[];
  webauthn: WebAuthnCredentialRecord[];
  /** The WebAuthn user handle of this person (random, base64url), shared by their credentials. */
  webauthnUserId: string;
  recoveryCodeHashes: string[];
  createdAt: EpochMs;
  updatedAt: EpochMs;
}
