/**
 * Only the authorization code flow is served: response_type must be exactly "code" (and be enabled
 * in oauth2.responseTypes); responses go back in the query, so another response_mode is refused.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkResponseType: AuthorizeCheck = (state, issuer) => {
  const responseType = state.params.response_type;
  if (!responseType) throw new OAuthError('invalid_request', 'the request has no response_type');
  if (responseType !== 'code' || !issuer.config.oauth2.responseTypes.includes('code')) {
    throw new OAuthError('unsupported_response_type', `response_type "${responseType}" is not supported (use "code")`);
  }
  const mode = state.params.response_mode;
  if (mode !== undefined && mode !== 'query') {
    throw new OAuthError('invalid_request', `response_mode "${mode}" is not supported (use "query")`);
  }
};
