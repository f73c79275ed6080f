/**
 * Whether the browser's login session answers this request without a new authentication (single
 * sign-on across the issuer's clients). It does not when the browser has none, prompt=login asks for a
 * new authentication, max_age has passed since the session's last one, id_token_hint names someone
 * else, the session's connector is not one this request may use, the connector was asked for less
 * than this request needs (groups, offline access), or every session of the person was revoked since.
 * With prompt=none any of these is login_required (OIDC Core §3.1.2.6); consent_required and the
 * client's groups are decided once the login is known (login/flow.ts). With prompt=select_account a
 * usable session is offered on the chooser beside the connectors.
 */
import { coversConnectorScopes, isFreshEnough, neededConnectorScopes } from '../../sessions/login-session.js';
import type { LoginSession } from '../../storage/storage.js';
import { subjectOf } from '../claims.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { isSubjectRevoked } from '../revocation.js';
import type { AuthorizeCheck, AuthorizeState } from './state.js';

/** Why `session` cannot answer the request, in the words login_required carries; undefined when it can. */
async function unusableBecause(state: AuthorizeState, issuer: IssuerContext, session: LoginSession): Promise<string | undefined> {
  const subject = subjectOf(session.identity.userId, session.connectorId);
  if (state.prompt.includes('login')) return 'prompt=login asks for a new authentication';
  if (!isFreshEnough(session, state.maxAge, issuer.now())) return `the last authentication is older than max_age (${state.maxAge}s)`;
  if (state.idTokenHint && state.idTokenHint.sub !== subject) return 'the signed-in user is not the one id_token_hint names';
  if (!state.connectors.some((connector) => connector.id === session.connectorId) || (state.connectorId !== undefined && state.connectorId !== session.connectorId)) {
    return 'the user signed in with a connector this request may not use';
  }
  if (!coversConnectorScopes(session, neededConnectorScopes(state.scopes, state.client))) return 'the request needs more of the connector than the sign-in asked for';
  if (await isSubjectRevoked(issuer, subject, { sinceMs: session.authTime * 1000 })) return "the user's sessions were revoked";
  return undefined;
}

export const checkLoginSession: AuthorizeCheck = async (state, issuer) => {
  const none = state.prompt.includes('none');
  const reason = state.session ? await unusableBecause(state, issuer, state.session) : 'the user is not signed in';
  if (reason !== undefined) {
    if (none) throw new OAuthError('login_required', reason);
    state.sessionUse = 'none';
    return;
  }
  state.sessionUse = state.prompt.includes('select_account') ? 'offer' : 'continue';
};
