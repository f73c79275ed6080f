/**
 * requirePushedAuthorizationRequests (RFC 9126 §5, per client and oauth2.* for all): such a request
 * must come as a request_uri from /par; sent directly to /auth it is invalid_request. Pushing is what
 * authenticates the client before the browser is involved and keeps the parameters out of the URL.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkPushedAuthorizationRequest: AuthorizeCheck = (state, issuer) => {
  if (state.pushed) return;
  if (issuer.config.oauth2.requirePushedAuthorizationRequests || state.client!.requirePushedAuthorizationRequests === true) {
    throw new OAuthError('invalid_request', 'this client must push its authorization request to the pushed authorization request endpoint (RFC 9126) and send only client_id and request_uri');
  }
};
