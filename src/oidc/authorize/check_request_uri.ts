/**
 * PAR at /auth (RFC 9126 §4): a request_uri issued by /par stands for the parameters pushed there. It
 * is taken at once, so it works once (a reload or a replay finds nothing); it must not have expired and
 * must come with the client_id that pushed it. Every later check then runs on the pushed parameters,
 * and the query's other parameters are ignored. No other request_uri (OIDC request objects by
 * reference) is fetched. Failures here are pages: no redirect URI is known good yet.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

export const checkRequestURI: AuthorizeCheck = async (state, issuer) => {
  const requestURI = state.params.request_uri;
  if (requestURI === undefined) return;
  const clientId = state.params.client_id;
  if (!clientId) throw new OAuthError('invalid_request', 'the request has no client_id (send the client_id that pushed the request_uri)');
  if (!requestURI.startsWith(REQUEST_URI_PREFIX)) {
    throw new OAuthError('invalid_request', 'request_uri must be one issued by this server\'s pushed authorization request endpoint');
  }
  const pushed = await issuer.storage.pushedAuthRequests.take(requestURI.slice(REQUEST_URI_PREFIX.length));
  if (!pushed) throw new OAuthError('invalid_request', 'request_uri is unknown, expired or already used: push the authorization request again');
  if (pushed.clientId !== clientId) throw new OAuthError('invalid_request', 'request_uri was pushed by another client');
  state.params = pushed.params;
  state.pushed = true;
};
