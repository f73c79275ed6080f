/**
 * Request objects (`request`, JAR) are not supported, as in Dex; refusing one is better than silently
 * ignoring parameters the client signed. (`request_uri` is PAR's, check_request_uri.ts.)
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkRequestObject: AuthorizeCheck = (state) => {
  if (state.params.request !== undefined) {
    throw new OAuthError('invalid_request', 'request objects (the "request" parameter) are not supported');
  }
};
