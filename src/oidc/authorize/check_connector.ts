/**
 * Which connectors this request may use: the open connectors the client allows (allowedConnectors;
 * empty or absent means all) that serve the authorization code flow (a connector's `grantTypes`, when
 * set, must list authorization_code, as in Dex). connector_id, when given, must be one of them and
 * skips the chooser.
 */
import type { IssuerContext, OpenConnector } from '../context.js';
import { OAuthError } from '../errors.js';
import type { Client } from '../../storage/storage.js';
import type { AuthorizeCheck } from './state.js';

/** The open connectors `client` may log in through at /auth, in config order. */
export function allowedConnectors(issuer: IssuerContext, client: Client | undefined): OpenConnector[] {
  if (!client) return [];
  const allowed = client.allowedConnectors ?? [];
  const grantTypes = new Map(issuer.config.connectors.map((entry) => [entry.id, entry.grantTypes]));
  return [...issuer.connectors.values()].filter((connector) => {
    const grants = grantTypes.get(connector.id);
    return (allowed.length === 0 || allowed.includes(connector.id)) && (!grants || grants.includes('authorization_code'));
  });
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
