/**
 * Which connectors this request may use: the open connectors the client allows (allowedConnectors;
 * empty or absent means all) that serve the authorization code flow (a connector's `grantTypes`, when
 * not empty, must list authorization_code, as in Dex; a login a device's user code started needs the
 * device grant there instead). connector_id, when given, must be one of them and skips the chooser.
 */
import { connectorServesGrant, type IssuerContext, type OpenConnector } from '../context.js';
import { DEVICE_CODE_GRANT, deviceCallbackURI } from '../device/device-request.js';
import { OAuthError } from '../errors.js';
import type { AuthRequest, Client } from '../../storage/storage.js';
import type { AuthorizeCheck } from './state.js';

/**
 * The open connectors `client` may log in through for `grantType` (a connector's grantTypes, as in
 * Dex), in config order.
 */
export function allowedConnectors(issuer: IssuerContext, client: Client | undefined, grantType = 'authorization_code'): OpenConnector[] {
  if (!client) return [];
  const allowed = client.allowedConnectors ?? [];
  return [...issuer.connectors.values()].filter((connector) =>
    (allowed.length === 0 || allowed.includes(connector.id)) && connectorServesGrant(connector, grantType));
}

/** The grant a login serves: the device grant for one a user code started (Dex's rule), else the code flow. */
export function loginGrantType(issuer: Pick<IssuerContext, 'issuer'>, authRequest: Pick<AuthRequest, 'redirectURI'>): string {
  return authRequest.redirectURI === deviceCallbackURI(issuer) ? DEVICE_CODE_GRANT : 'authorization_code';
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
