/**
 * CSRF protection for the login forms: each AuthRequest carries its own random token, every form
 * posts it back as `csrf_token`, and it is compared in constant time (over SHA-256 digests, so the
 * comparison does not leak the length either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthRequest } from '../storage/storage.js';
import { csrfFailure } from './errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function csrfTokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** Throws the 403 page error unless the form's token belongs to this auth request. */
export function assertCsrf(authRequest: AuthRequest, form: Record<string, string>): void {
  if (!csrfTokenMatches(authRequest.csrfToken, form.csrf_token)) throw csrfFailure();
}
