/**
 * Request objects (`request`, `request_uri`) are not supported, as in Dex; refusing them is better
 * than silently ignoring parameters the client signed.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkRequestObject: AuthorizeCheck = (state) => {
  if (state.params.request !== undefined || state.params.request_uri !== undefined) {
    throw new OAuthError('invalid_request', 'request objects (request, request_uri) are not supported');
  }
};
