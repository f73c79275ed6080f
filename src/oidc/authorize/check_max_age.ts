/**
 * max_age (OIDC Core §3.1.2.1) is a non-negative integer of seconds: a login session whose last
 * authentication is older is not used (check_login_session), so the person authenticates again.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkMaxAge: AuthorizeCheck = (state) => {
  const value = state.params.max_age;
  if (value === undefined) return;
  if (!/^\d{1,10}$/.test(value)) throw new OAuthError('invalid_request', 'max_age must be a non-negative integer number of seconds');
  state.maxAge = Number(value);
};
