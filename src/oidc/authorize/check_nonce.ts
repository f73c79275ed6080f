/**
 * A response that returns tokens from /auth (implicit and hybrid flows) needs a nonce, as in Dex: it is
 * what ties the ID token to this request (OIDC Core §3.2.2.1, §3.3.2.11), and without a code there is
 * no PKCE to do that. The code flow keeps the nonce optional.
 */
import { OAuthError } from '../errors.js';
import { returnsTokens } from './check_response_type.js';
import type { AuthorizeCheck } from './state.js';

export const checkNonce: AuthorizeCheck = (state) => {
  if (returnsTokens(state.responseType!) && !state.params.nonce) {
    throw new OAuthError('invalid_request', `response_type "${state.responseType!.value}" needs a nonce`);
  }
};
