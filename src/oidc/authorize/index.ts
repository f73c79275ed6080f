/**
 * The authorization endpoint (/auth) as an ordered list of named checks; reading the list is reading
 * the rules. The outcome says what the HTTP layer (src/login/routes.ts) must do: show an error page
 * (client or redirect URI not validated), send an error to the client, or continue to login, with the
 * browser's login session or without. The pushed authorization request endpoint (../par-endpoint.ts)
 * runs the same checks at push time, but for the login session's: there is no browser there.
 */
import type { IssuerContext, OpenConnector } from '../context.js';
import { OAuthError } from '../errors.js';
import type { AuthRequest, Client, LoginSession } from '../../storage/storage.js';
import { checkAcrValues } from './check_acr_values.js';
import { checkClient } from './check_client.js';
import { checkParameterSizes } from './check_parameter_sizes.js';
import { checkConnector } from './check_connector.js';
import { checkIdTokenHint } from './check_id_token_hint.js';
import { checkLoginSession } from './check_login_session.js';
import { checkMaxAge } from './check_max_age.js';
import { checkNonce } from './check_nonce.js';
import { checkPKCE } from './check_pkce.js';
import { checkPrompt } from './check_prompt.js';
import { checkPushedAuthorizationRequest } from './check_pushed_authorization_request.js';
import { checkRedirectURI, OOB_REDIRECT_URI } from './check_redirect_uri.js';
import { checkRequestObject } from './check_request_object.js';
import { checkRequestURI } from './check_request_uri.js';
import { checkResource } from './check_resource.js';
import { checkResponseType } from './check_response_type.js';
import { checkScope } from './check_scope.js';
import { createAuthRequest } from './create_auth_request.js';
import { authorizationErrorResponse, type AuthorizationResponse } from './response_mode.js';
import { newAuthorizeState, type AuthorizeCheck, type AuthorizeState } from './state.js';

export const AUTHORIZE_CHECKS: ReadonlyArray<readonly [string, AuthorizeCheck]> = [
  ['check_parameter_sizes', checkParameterSizes],
  ['check_request_uri', checkRequestURI],
  ['check_client', checkClient],
  ['check_redirect_uri', checkRedirectURI],
  ['check_response_type', checkResponseType],
  ['check_request_object', checkRequestObject],
  ['check_pushed_authorization_request', checkPushedAuthorizationRequest],
  ['check_scope', checkScope],
  ['check_resource', checkResource],
  ['check_nonce', checkNonce],
  ['check_pkce', checkPKCE],
  ['check_prompt', checkPrompt],
  ['check_max_age', checkMaxAge],
  ['check_acr_values', checkAcrValues],
  ['check_id_token_hint', checkIdTokenHint],
  ['check_connector', checkConnector],
  ['check_login_session', checkLoginSession],
];

/** What /par runs on the pushed parameters: everything but taking a request_uri (one is never pushed) and the browser's session. */
export const PUSH_CHECKS = AUTHORIZE_CHECKS.filter(([name]) => name !== 'check_request_uri' && name !== 'check_login_session');

export type AuthorizeOutcome =
  /** The client or redirect URI is not valid (or is out-of-band): show `error` as a page, never redirect. */
  | { kind: 'error_page'; error: OAuthError }
  /** Send the error to the client (a redirect, or a form_post page). */
  | { kind: 'error_response'; error: OAuthError; response: AuthorizationResponse }
  /**
   * Stored; continue with the browser's login `session` when it answers the request (when `offered`,
   * as a choice on the chooser), else log in through `connectorId` directly, or show the chooser over `connectors`.
   */
  | { kind: 'login'; authRequest: AuthRequest; client: Client; connectors: OpenConnector[]; connectorId?: string; session?: { value: LoginSession; offered: boolean } };

/** Runs `checks` in order on `state`; the first one that throws decides. */
export async function runChecks(state: AuthorizeState, issuer: IssuerContext, checks: typeof AUTHORIZE_CHECKS): Promise<void> {
  for (const [, check] of checks) await check(state, issuer);
}

/** /auth for the browser whose binding cookie hashes to `browser.hash`, with its login session if it has one. */
export async function authorize(issuer: IssuerContext, params: Record<string, string>, browser: { hash: string; session?: LoginSession }): Promise<AuthorizeOutcome> {
  const state = newAuthorizeState(params, browser.session ? { session: browser.session } : {});
  try {
    await runChecks(state, issuer, AUTHORIZE_CHECKS);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    if (state.redirectURI === undefined || state.redirectURI === OOB_REDIRECT_URI) return { kind: 'error_page', error };
    const response = authorizationErrorResponse(state.redirectURI, state.responseMode, issuer.issuer, error, state.params.state);
    return { kind: 'error_response', error, response };
  }
  const authRequest = await createAuthRequest(state, issuer, browser.hash);
  const session = state.session && state.sessionUse !== 'none' ? { session: { value: state.session, offered: state.sessionUse === 'offer' } } : {};
  return { kind: 'login', authRequest, client: state.client!, connectors: state.connectors, connectorId: directConnector(state, issuer), ...session };
}

/** The connector to go to without a chooser: the one named, or the only one (unless asked to choose). */
function directConnector(state: AuthorizeState, issuer: IssuerContext): string | undefined {
  if (state.connectorId) return state.connectorId;
  const mustChoose = issuer.config.oauth2.alwaysShowLoginScreen || state.prompt.includes('select_account');
  return !mustChoose && state.connectors.length === 1 ? state.connectors[0]!.id : undefined;
}
