/**
 * scope must include openid and name only scopes idgate knows (Dex's set, src/oidc/scopes.ts);
 * anything else is invalid_scope. `audience:server:client_id:<peer>` asks for a token the peer will
 * accept: the peer must exist and list the requesting client in its trustedPeers. Checked here, at
 * /auth, so an untrusted audience never reaches the login pages.
 */
import { OAuthError } from '../errors.js';
import { parseScopes, resolveAudience } from '../scopes.js';
import type { AuthorizeCheck } from './state.js';

export const checkScope: AuthorizeCheck = async (state, issuer) => {
  const scopes = parseScopes(state.params.scope);
  if (!scopes.openid) throw new OAuthError('invalid_scope', 'the scope must include "openid"');
  await resolveAudience(issuer.storage, state.client!.id, scopes);
  state.scopes = scopes.all;
};
