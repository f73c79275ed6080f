/**
 * client_id must be given and name a registered client. Failures here are shown as a page: without
 * a known client there is no redirect URI we may send the browser to.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkClient: AuthorizeCheck = async (state, issuer) => {
  const clientId = state.params.client_id;
  if (!clientId) throw new OAuthError('invalid_request', 'the request has no client_id');
  const client = await issuer.storage.clients.get(clientId);
  if (!client) throw new OAuthError('invalid_client', `unknown client "${clientId}"`, { status: 400 });
  state.client = client;
};
