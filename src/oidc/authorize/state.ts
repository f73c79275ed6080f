/**
 * What the authorization endpoint's checks read and fill in, one request at a time. A check either
 * returns (the request passed its rule) or throws an OAuthError; `redirectURI` is set only once the
 * client and its redirect URI are known good, and only then may an error be sent back to the client.
 */
import type { IssuerContext, OpenConnector } from '../context.js';
import type { Client } from '../../storage/storage.js';

export interface AuthorizeState {
  /** The request parameters (query for GET, form for POST), each given at most once. */
  readonly params: Readonly<Record<string, string>>;
  client?: Client;
  /** Set by check_redirect_uri: from then on errors are redirected to it. */
  redirectURI?: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  prompt: string[];
  maxAge?: number;
  /** The connectors this client may use, in config order. */
  connectors: OpenConnector[];
  /** Set when connector_id named one (the chooser is skipped). */
  connectorId?: string;
}

export type AuthorizeCheck = (state: AuthorizeState, issuer: IssuerContext) => void | Promise<void>;

export function newAuthorizeState(params: Record<string, string>): AuthorizeState {
  return { params, scopes: [], prompt: [], connectors: [] };
}
