/**
 * Which connectors this request may use: the open connectors the client allows (allowedConnectors;
 * empty or absent means all). connector_id, when given, must be one of them and skips the chooser.
 */
import type { IssuerContext, OpenConnector } from '../context.js';
import { OAuthError } from '../errors.js';
import type { Client } from '../../storage/storage.js';
import type { AuthorizeCheck } from './state.js';

/** The open connectors `client` may log in through, in config order. */
export function allowedConnectors(issuer: IssuerContext, client: Client | undefined): OpenConnector[] {
  if (!client) return [];
  const allowed = client.allowedConnectors ?? [];
  return [...issuer.connectors.values()].filter((c) => allowed.length === 0 || allowed.includes(c.id));
}

export const checkConnector: AuthorizeCheck = (state, issuer) => {
  state.connectors = allowedConnectors(issuer, state.client);
  const requested = state.params.connector_id;
  if (requested === undefined) {
    if (state.connectors.length === 0) throw new OAuthError('temporarily_unavailable', 'no sign-in method is available for this client');
    return;
  }
  if (!issuer.connectors.has(requested)) throw new OAuthError('invalid_request', `unknown connector "${requested}"`);
  if (!state.connectors.some((c) => c.id === requested)) {
    throw new OAuthError('invalid_request', `connector "${requested}" is not allowed for this client`);
  }
  state.connectorId = requested;
};
