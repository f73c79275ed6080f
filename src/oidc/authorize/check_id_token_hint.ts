/**
 * id_token_hint (OIDC Core §3.1.2.1): when sent, an ID token we issued (expired ones too). It names the
 * person the client expects: a login session of someone else is not used (check_login_session). A
 * hint that is not ours (another issuer's, forged, not a JWT) is invalid_request.
 */
import { OAuthError } from '../errors.js';
import { verifyIdTokenHint } from '../id-token-hint.js';
import type { AuthorizeCheck } from './state.js';

export const checkIdTokenHint: AuthorizeCheck = async (state, issuer) => {
  const token = state.params.id_token_hint;
  if (token === undefined) return;
  const hint = await verifyIdTokenHint(issuer, token);
  if (!hint) throw new OAuthError('invalid_request', 'id_token_hint is not an ID token issued by this server');
  state.idTokenHint = hint;
};
