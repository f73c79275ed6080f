/**
 * What the authorization endpoint's checks read and fill in, one request at a time. A check either
 * returns (the request passed its rule) or throws an OAuthError; `redirectURI` is set only once the
 * client and its redirect URI are known good, and only then may an error be sent back to the client
 * (in `responseMode` once that is known, else in the query).
 */
import type { IssuerContext, OpenConnector } from '../context.js';
import type { Client, LoginSession } from '../../storage/storage.js';
import type { IdTokenHint } from '../id-token-hint.js';
import type { ResponseType } from './check_response_type.js';
import type { ResponseMode } from './response_mode.js';

export interface AuthorizeState {
  /** The request parameters (query for GET, form for POST, or those pushed to /par), each given at most once. */
  params: Readonly<Record<string, string>>;
  /** The parameters came from a pushed authorization request (or are being pushed). */
  pushed: boolean;
  client?: Client;
  /** Set by check_redirect_uri: from then on errors are redirected to it. */
  redirectURI?: string;
  /** Set by check_response_type. */
  responseType?: ResponseType;
  responseMode?: ResponseMode;
  scopes: string[];
  /** RFC 8707 resources asked for (check_resource). */
  resources: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  prompt: string[];
  maxAge?: number;
  /** acr_values, else the client's defaultACRValues (check_acr_values). */
  acrValues: string[];
  /** The connectors this client may use, in config order. */
  connectors: OpenConnector[];
  /** Set when connector_id named one (the chooser is skipped). */
  connectorId?: string;
  /** The verified id_token_hint, when one was sent. */
  idTokenHint?: IdTokenHint;
  /** The browser's live login session, when it has one (never at /par: no browser there). */
  session?: LoginSession;
  /** What check_login_session decided: use the session (`continue`), offer it on the chooser, or authenticate. */
  sessionUse: 'none' | 'continue' | 'offer';
}

export type AuthorizeCheck = (state: AuthorizeState, issuer: IssuerContext) => void | Promise<void>;

export function newAuthorizeState(params: Record<string, string>, options: { pushed?: boolean; session?: LoginSession } = {}): AuthorizeState {
  return {
    params, pushed: options.pushed ?? false, scopes: [], resources: [], prompt: [], acrValues: [], connectors: [], sessionUse: 'none',
    ...(options.session ? { session: options.session } : {}),
  };
}
