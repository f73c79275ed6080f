/**
 * The authorization endpoint (/auth) as an ordered list of named checks; reading the list is reading
 * the rules. The outcome says what the HTTP layer (src/login/routes.ts) must do: show an error page
 * (client or redirect URI not validated), redirect an error to the client, or continue to login.
 */
import type { IssuerContext, OpenConnector } from '../context.js';
import { OAuthError } from '../errors.js';
import type { AuthRequest, Client } from '../../storage/storage.js';
import { checkClient } from './check_client.js';
import { checkConnector } from './check_connector.js';
import { checkMaxAge } from './check_max_age.js';
import { checkPKCE } from './check_pkce.js';
import { checkPrompt } from './check_prompt.js';
import { checkRedirectURI, OOB_REDIRECT_URI } from './check_redirect_uri.js';
import { checkRequestObject } from './check_request_object.js';
import { checkResponseType } from './check_response_type.js';
import { checkScope } from './check_scope.js';
import { createAuthRequest } from './create_auth_request.js';
import { authorizationErrorURL } from './redirect.js';
import { newAuthorizeState, type AuthorizeCheck, type AuthorizeState } from './state.js';

export const AUTHORIZE_CHECKS: ReadonlyArray<readonly [string, AuthorizeCheck]> = [
  ['check_client', checkClient],
  ['check_redirect_uri', checkRedirectURI],
  ['check_response_type', checkResponseType],
  ['check_request_object', checkRequestObject],
  ['check_scope', checkScope],
  ['check_pkce', checkPKCE],
  ['check_prompt', checkPrompt],
  ['check_max_age', checkMaxAge],
  ['check_connector', checkConnector],
];

export type AuthorizeOutcome =
  /** The client or redirect URI is not valid (or is out-of-band): show `error` as a page, never redirect. */
  | { kind: 'error_page'; error: OAuthError }
  /** Send the browser to the client with the error. */
  | { kind: 'error_redirect'; error: OAuthError; location: string }
  /** Stored; log in through `connectorId` directly, or show the chooser over `connectors`. */
  | { kind: 'login'; authRequest: AuthRequest; client: Client; connectors: OpenConnector[]; connectorId?: string };

export async function authorize(issuer: IssuerContext, params: Record<string, string>): Promise<AuthorizeOutcome> {
  const state = newAuthorizeState(params);
  try {
    for (const [, check] of AUTHORIZE_CHECKS) await check(state, issuer);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    if (state.redirectURI === undefined || state.redirectURI === OOB_REDIRECT_URI) return { kind: 'error_page', error };
    return { kind: 'error_redirect', error, location: authorizationErrorURL(state.redirectURI, issuer.issuer, error, params.state) };
  }
  const authRequest = await createAuthRequest(state, issuer);
  return { kind: 'login', authRequest, client: state.client!, connectors: state.connectors, connectorId: directConnector(state, issuer) };
}

/** The connector to go to without a chooser: the one named, or the only one (unless asked to choose). */
function directConnector(state: AuthorizeState, issuer: IssuerContext): string | undefined {
  if (state.connectorId) return state.connectorId;
  const mustChoose = issuer.config.oauth2.alwaysShowLoginScreen || state.prompt.includes('select_account');
  return !mustChoose && state.connectors.length === 1 ? state.connectors[0]!.id : undefined;
}
