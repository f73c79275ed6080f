/**
 * acr_values (OIDC Core §3.1.2.1): the authentication context classes the client accepts, in its order
 * of preference; without any, the client's registered defaultACRValues. idgate treats the lowest value
 * it knows as the level the login must reach (sessions/mfa/acr.ts) and ignores values it does not know,
 * as the spec lets it. A level no configured authenticator can reach is refused here, before anyone
 * types a password, with unmet_authentication_requirements (OpenID Connect Unmet Authentication
 * Requirements 1.0).
 */
import { requiredAcr } from '../../sessions/mfa/acr.js';
import { acrValueProblem } from '../../sessions/mfa/config.js';
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

export const checkAcrValues: AuthorizeCheck = (state, issuer) => {
  const asked = (state.params.acr_values ?? '').split(' ').filter(Boolean);
  const acrValues = asked.length > 0 ? asked : state.client?.defaultACRValues ?? [];
  const required = requiredAcr(acrValues);
  const problem = required && acrValueProblem(required, issuer.config.mfa?.authenticators ?? []);
  if (problem) throw new OAuthError('unmet_authentication_requirements', `"${required}" cannot be reached here: no authenticator for it is configured`);
  state.acrValues = acrValues;
};
