/**
 * Bounds what an authorization request may carry before anything else reads it: every request is
 * stored until its login ends or expiry.authRequests passes, so a parameter of any length (a 60 KB
 * `state`) would let a client fill storage. Checked first, so a refusal is shown as a page and an
 * oversized value is never echoed back in a redirect.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

/** Per parameter: far above what any client sends (a state with a return URL, a long scope list). */
export const MAX_PARAMETER_LENGTH = 4096;
/** All parameters together. */
export const MAX_PARAMETERS_LENGTH = 16 * 1024;

/** A parameter name fit to be named back: the registered names are short, lowercase and underscored. */
const NAMEABLE = /^[a-z_]{1,40}$/;

export const checkParameterSizes: AuthorizeCheck = (state) => {
  let total = 0;
  for (const [name, value] of Object.entries(state.params)) {
    total += name.length + value.length;
    if (value.length > MAX_PARAMETER_LENGTH) {
      const which = NAMEABLE.test(name) ? `the "${name}" parameter` : 'a parameter';
      throw new OAuthError('invalid_request', `${which} is longer than ${MAX_PARAMETER_LENGTH} characters`);
    }
  }
  if (total > MAX_PARAMETERS_LENGTH) throw new OAuthError('invalid_request', `the request's parameters are longer than ${MAX_PARAMETERS_LENGTH} characters together`);
};
