/**
 * Password DB entries at runtime (Dex's CreatePassword/UpdatePassword/DeletePassword/ListPasswords/
 * VerifyPassword): stored beside the config file's staticPasswords, which stay read-only. As in Dex,
 * the caller sends a bcrypt hash, never a password, and a hash whose cost is below 10 or above 16 is
 * refused (passwords.CheckCost); the email, lowercased, is the entry's key. The `local` connector
 * reads entries from storage at each login, so a change holds on every replica at once.
 */
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { bcryptCost } from '../../../connectors/local/index.js';
import { AlreadyExistsError, NotFoundError, type Password } from '../../storage/storage.js';
import { auditedChange, InvalidArgumentError, type ManagementDeps } from './service.js';

/** Dex's bounds (server/passwords: bcrypt.DefaultCost and upBoundCost). */
export const MIN_BCRYPT_COST = 10;
export const MAX_BCRYPT_COST = 16;

const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const EMAIL = z.email();

export interface NewPassword {
  email: string;
  /** A bcrypt hash ("$2a$10$..."). */
  hash: string;
  username: string;
  userId: string;
}

/** An entry as the API shows it: never its hash. */
export interface PasswordView {
  email: string;
  username: string;
  userId: string;
  /** From the config file: read-only. */
  static: boolean;
}

function emailKey(field: string, email: string): string {
  if (!email) throw new InvalidArgumentError(field, 'the email is required');
  if (!EMAIL.safeParse(email).success) throw new InvalidArgumentError(field, 'not an email address');
  return email.toLowerCase();
}

/** Dex's CheckCost, plus the shape idgate's config demands of a hash. */
function checkHash(field: string, hash: string): string {
  if (!BCRYPT_HASH.test(hash)) throw new InvalidArgumentError(field, 'not a bcrypt hash ($2a$, $2b$ or $2y$, then the cost and 53 characters)');
  const cost = bcryptCost(hash)!;
  if (cost < MIN_BCRYPT_COST) throw new InvalidArgumentError(field, `the hash's cost ${cost} is below the minimum of ${MIN_BCRYPT_COST}`);
  if (cost > MAX_BCRYPT_COST) throw new InvalidArgumentError(field, `the hash's cost ${cost} is above the maximum of ${MAX_BCRYPT_COST} (12 is recommended)`);
  return hash;
}

function viewOf(entry: Password): PasswordView {
  return { email: entry.email, username: entry.username, userId: entry.userId, static: entry.static === true };
}

export async function createPassword(deps: ManagementDeps, input: NewPassword): Promise<{ alreadyExists: boolean }> {
  return auditedChange(deps, 'password_created', { email: input.email, userId: input.userId }, async () => {
    const email = emailKey('email', input.email);
    if (!input.userId) throw new InvalidArgumentError('userId', 'the user ID is required');
    const record: Password = { id: email, email, hash: checkHash('hash', input.hash), username: input.username, userId: input.userId };
    try {
      await deps.storage.passwords.create(record);
    } catch (error) {
      if (error instanceof AlreadyExistsError) return { alreadyExists: true };
      throw error;
    }
    return { alreadyExists: false };
  });
}

export async function updatePassword(deps: ManagementDeps, email: string, changes: { hash?: string; username?: string }): Promise<{ notFound: boolean }> {
  const changed = [...(changes.hash ? ['hash'] : []), ...(changes.username ? ['username'] : [])];
  return auditedChange(deps, 'password_updated', { email, changed }, async () => {
    const key = emailKey('email', email);
    if (changed.length === 0) throw new InvalidArgumentError('hash', 'nothing to update: give a new hash, a new username or both');
    const hash = changes.hash ? checkHash('hash', changes.hash) : undefined;
    try {
      await deps.storage.passwords.update(key, (current) => ({
        ...current,
        ...(hash ? { hash } : {}),
        ...(changes.username ? { username: changes.username } : {}),
      }));
    } catch (error) {
      if (error instanceof NotFoundError) return { notFound: true };
      throw error;
    }
    return { notFound: false };
  });
}

export async function deletePassword(deps: ManagementDeps, email: string): Promise<{ notFound: boolean }> {
  return auditedChange(deps, 'password_deleted', { email }, async () => ({ notFound: !(await deps.storage.passwords.delete(emailKey('email', email))) }));
}

export async function listPasswords(deps: ManagementDeps): Promise<PasswordView[]> {
  return (await deps.storage.passwords.list()).map(viewOf);
}

/**
 * Dex's VerifyPassword: whether `password` matches the entry's bcrypt hash. Audited (a check of a
 * credential), with the outcome and never the password.
 */
export async function verifyPassword(deps: ManagementDeps, email: string, password: string): Promise<{ verified: boolean; notFound: boolean }> {
  const write = (outcome: 'succeeded' | 'refused', reason?: string) =>
    deps.audit.write({ event: 'password_verified', outcome, ...(reason ? { reason } : {}), email });
  try {
    if (!email) throw new InvalidArgumentError('email', 'the email is required');
    if (!password) throw new InvalidArgumentError('password', 'the password to verify is required');
  } catch (error) {
    write('refused', 'invalid_argument');
    throw error;
  }
  const entry = await deps.storage.passwords.get(email.toLowerCase());
  if (!entry) {
    write('refused', 'not_found');
    return { verified: false, notFound: true };
  }
  const verified = await bcrypt.compare(password, entry.hash);
  write(verified ? 'succeeded' : 'refused', verified ? undefined : 'invalid_credentials');
  return { verified, notFound: false };
}
