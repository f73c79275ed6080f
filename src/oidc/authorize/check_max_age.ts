/**
 * max_age is a non-negative integer of seconds. Every login here is fresh (no SSO session), so it
 * is always met; it is kept with the request so the token side can echo auth_time.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkMaxAge: AuthorizeCheck = (state) => {
  const value = state.params.max_age;
  if (value === undefined) return;
  if (!/^\d{1,10}$/.test(value)) throw new OAuthError('invalid_request', 'max_age must be a non-negative integer number of seconds');
  state.maxAge = Number(value);
};
