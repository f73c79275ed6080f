/**
 * A person's second factors in storage (one MFACredentials record per user and connector, keyed by
 * their `sub`). Every change that decides a security rule is a compare-and-swap on the stored record,
 * so two replicas (or two tabs) racing with the same code or assertion cannot both succeed: a TOTP
 * step is used at most once, a recovery code is removed as it is used, and a WebAuthn signature
 * counter only ever grows.
 */
import { randomBytes } from 'node:crypto';
import { subjectOf } from '../../oidc/claims.js';
import {
  AlreadyExistsError, NotFoundError, type EpochMs, type MFACredentials, type Storage, type TOTPCredential, type WebAuthnCredentialRecord,
} from '../../storage/storage.js';
import { MFAError } from './errors.js';

export interface MFAUser {
  connectorId: string;
  userId: string;
}

type CredentialsStorage = Pick<Storage, 'mfaCredentials'>;

export function credentialsId(user: MFAUser): string {
  return subjectOf(user.userId, user.connectorId);
}

export async function loadCredentials(storage: CredentialsStorage, user: MFAUser): Promise<MFACredentials | undefined> {
  return storage.mfaCredentials.get(credentialsId(user));
}

/** What `authenticatorId` has enrolled: a TOTP secret and/or WebAuthn credentials. */
export function enrolledWith(credentials: MFACredentials | undefined, authenticatorId: string): { totp?: TOTPCredential; webauthn: WebAuthnCredentialRecord[] } {
  return {
    totp: credentials?.totp.find((entry) => entry.authenticatorId === authenticatorId),
    webauthn: credentials?.webauthn.filter((entry) => entry.authenticatorId === authenticatorId) ?? [],
  };
}

/** The WebAuthn user handle of this person: the stored one, or a new one for their first credential. */
export function webauthnUserHandle(credentials: MFACredentials | undefined): string {
  return credentials?.webauthnUserId ?? randomBytes(32).toString('base64url');
}

/** Applies `change` to the person's record, creating it (empty) first when they have none. */
async function changeCredentials(storage: CredentialsStorage, user: MFAUser, now: EpochMs, change: (current: MFACredentials) => MFACredentials): Promise<MFACredentials> {
  const id = credentialsId(user);
  for (;;) {
    try {
      return await storage.mfaCredentials.update(id, (current) => ({ ...change(current), updatedAt: now }));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const empty: MFACredentials = {
      id, connectorId: user.connectorId, userId: user.userId, totp: [], webauthn: [],
      webauthnUserId: webauthnUserHandle(undefined), recoveryCodeHashes: [], createdAt: now, updatedAt: now,
    };
    const created = change(empty);
    try {
      await storage.mfaCredentials.create(created);
      return created;
    } catch (error) {
      // Another request created it meanwhile: apply the change to theirs.
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}

/**
 * Enrolls a TOTP secret, confirmed by a code of `step` (recorded as used, so the code that confirmed
 * the enrollment cannot be replayed). Refused when the authenticator has a secret already (enrolled
 * meanwhile, in another tab): a secret is never replaced by a login that only passed the first factor.
 */
export async function enrollTOTP(storage: CredentialsStorage, user: MFAUser, totp: { authenticatorId: string; secret: string; step: number }, now: EpochMs): Promise<MFACredentials> {
  const entry: TOTPCredential = { authenticatorId: totp.authenticatorId, secret: totp.secret, lastUsedStep: totp.step, createdAt: now };
  return changeCredentials(storage, user, now, (current) => {
    if (current.totp.some((existing) => existing.authenticatorId === totp.authenticatorId)) {
      throw new MFAError('invalid_code', 'a TOTP secret is already enrolled for this authenticator');
    }
    return { ...current, totp: [...current.totp, entry] };
  });
}

/** Records `step` as used for the authenticator's code; a step at or before the last one used is refused. */
export async function useTOTPStep(storage: CredentialsStorage, user: MFAUser, authenticatorId: string, step: number, now: EpochMs): Promise<void> {
  await storage.mfaCredentials.update(credentialsId(user), (current) => {
    const entry = current.totp.find((existing) => existing.authenticatorId === authenticatorId);
    if (!entry) throw new MFAError('invalid_code', 'no TOTP secret is enrolled for this authenticator');
    if (step <= entry.lastUsedStep) throw new MFAError('code_reused', 'this code (or a later one) was already used');
    return {
      ...current,
      totp: current.totp.map((existing) => (existing === entry ? { ...existing, lastUsedStep: step } : existing)),
      updatedAt: now,
    };
  });
}

/** Adds a registered WebAuthn credential (with the user handle it was registered under). */
export async function addWebAuthnCredential(storage: CredentialsStorage, user: MFAUser, userHandle: string, credential: WebAuthnCredentialRecord, now: EpochMs): Promise<MFACredentials> {
  return changeCredentials(storage, user, now, (current) => ({
    ...current,
    webauthnUserId: current.webauthn.length > 0 ? current.webauthnUserId : userHandle,
    webauthn: [...current.webauthn.filter((existing) => existing.credentialId !== credential.credentialId), credential],
  }));
}

/**
 * Records an assertion's signature counter. It must be above the stored one; an authenticator that
 * keeps no counter reports 0 every time and is accepted while the stored counter is 0 too (WebAuthn
 * §6.1.1). Anything else is a regression: refused, and the stored counter is left as it is.
 */
export async function useWebAuthnCounter(storage: CredentialsStorage, user: MFAUser, credentialId: string, counter: number, now: EpochMs): Promise<void> {
  await storage.mfaCredentials.update(credentialsId(user), (current) => {
    const entry = current.webauthn.find((existing) => existing.credentialId === credentialId);
    if (!entry) throw new MFAError('unknown_credential', 'this passkey is not registered for this account');
    if (!(counter > entry.counter || (counter === 0 && entry.counter === 0))) {
      throw new MFAError('counter_regression', `the authenticator's signature counter went from ${entry.counter} to ${counter}: it may be cloned`);
    }
    return {
      ...current,
      webauthn: current.webauthn.map((existing) => (existing === entry ? { ...existing, counter, lastUsedAt: now } : existing)),
      updatedAt: now,
    };
  });
}

/**
 * Gives the person these recovery codes (hashes) if they have none; false when they have some already
 * (an enrollment in another tab handed them out first), so codes shown are always the valid ones.
 */
export async function issueRecoveryCodes(storage: CredentialsStorage, user: MFAUser, hashes: string[], now: EpochMs): Promise<boolean> {
  let issued = false;
  await changeCredentials(storage, user, now, (current) => {
    issued = current.recoveryCodeHashes.length === 0;
    return issued ? { ...current, recoveryCodeHashes: hashes } : current;
  });
  return issued;
}

/** Uses up the recovery code with this hash; refused if it is not (or no longer) one of theirs. */
export async function useRecoveryCode(storage: CredentialsStorage, user: MFAUser, hash: string, now: EpochMs): Promise<void> {
  try {
    await storage.mfaCredentials.update(credentialsId(user), (current) => {
      if (!current.recoveryCodeHashes.includes(hash)) throw new MFAError('invalid_code', 'not an unused recovery code of this account');
      return { ...current, recoveryCodeHashes: current.recoveryCodeHashes.filter((existing) => existing !== hash), updatedAt: now };
    });
  } catch (error) {
    if (error instanceof NotFoundError) throw new MFAError('invalid_code', 'this account has no recovery codes');
    throw error;
  }
}
