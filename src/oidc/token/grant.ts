/**
 * What every grant handler shares: its input and output types, required-parameter reading, the refresh
 * policy from config, and the rule for when a refresh token may be issued at all.
 */
import { GRANT_TYPES } from '../../config/schema.js';
import { canRefresh } from '../../connector.js';
import type { Client, StoredIdentity } from '../../storage/storage.js';
import type { Confirmation } from '../claims.js';
import { connectorServesGrant, type IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import type { ParsedScopes } from '../scopes.js';
import type { GrantType, TokenResponseBody } from './issue.js';
import type { RefreshPolicy } from './refresh-family.js';

export interface GrantRequest {
  ctx: IssuerContext;
  form: Record<string, string>;
  client: Client;
  /** Where the request came from (web.clientRemoteIP's rules), for throttles; read only when asked. */
  clientIP: () => string;
  /** What the access token is bound to (token/binding.ts: DPoP key, client certificate); undefined: a bearer token. */
  cnf: Confirmation | undefined;
}

export interface GrantResult {
  body: TokenResponseBody;
  /** For the audit event: who and which session, never a token (a client's own grant has no user). */
  audit: { sid?: string; userId?: string; connectorId?: string; scope: string };
}

export type GrantHandler = (request: GrantRequest) => Promise<GrantResult>;

export function requireParam(form: Record<string, string>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw new OAuthError('invalid_request', `the "${name}" parameter is required`);
  return value;
}

/** Grants that rest on who the client is (client_credentials, token exchange) refuse a public client: it cannot prove it. */
export function checkConfidentialClient(client: Client, grant: GrantType): void {
  if (client.public) throw new OAuthError('unauthorized_client', `client "${client.id}" is public; ${grant} needs a confidential client`);
}

/** A client limited to some connectors (allowedConnectors) gets no tokens for a session of another (Dex #4889). */
export function checkConnectorAllowed(client: Client, connectorId: string): void {
  const allowed = client.allowedConnectors;
  if (allowed && allowed.length > 0 && !allowed.includes(connectorId)) {
    throw new OAuthError('invalid_grant', `client "${client.id}" may not use connector "${connectorId}"`);
  }
}

/** True unless the client's allowedGroups (when not empty) share no group with the person's. */
export function inAllowedGroups(client: Pick<Client, 'allowedGroups'>, identity: Pick<StoredIdentity, 'groups'>): boolean {
  const allowed = client.allowedGroups ?? [];
  return allowed.length === 0 || (identity.groups ?? []).some((group) => allowed.includes(group));
}

/** A client limited to some groups (allowedGroups) gets no tokens for a person in none of them. */
export function checkGroupsAllowed(client: Client, identity: StoredIdentity): void {
  if (!inAllowedGroups(client, identity)) throw new OAuthError('invalid_grant', `the user is not in a group client "${client.id}" allows`);
}

/**
 * The grant types the operator enabled (oauth2.grantTypes); unset, every grant idgate has, except the
 * password grant, which (as in Dex) needs oauth2.passwordConnector. grants/index.ts intersects this
 * with the grants that are implemented, for the token endpoint and discovery. Dex's `implicit` is no
 * token endpoint grant (oauth2.responseTypes switches that flow), so it is not among these.
 */
export function configuredGrantTypes(ctx: IssuerContext): readonly GrantType[] {
  const configured = ctx.config.oauth2.grantTypes?.filter((grant): grant is GrantType => grant !== 'implicit');
  return configured ?? GRANT_TYPES.filter((grant) => grant !== 'password' || ctx.config.oauth2.passwordConnector !== undefined);
}

/** Grants a client may use without listing them in its grantTypes; the others it must list. */
const CLIENT_DEFAULT_GRANT_TYPES: readonly GrantType[] = [
  'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'password',
];

/** The grants this client may use (RFC 7591 grant_types), before the operator's own list is applied. */
export function clientGrantTypes(client: Client): readonly string[] {
  return client.grantTypes ?? CLIENT_DEFAULT_GRANT_TYPES;
}

export function refreshPolicy(ctx: IssuerContext): RefreshPolicy {
  return ctx.config.expiry.refreshTokens;
}

/**
 * Dex's rule (shouldIssueRefreshToken): offline_access was granted, the refresh_token grant is enabled
 * (globally and for the connector), and the connector can re-read the identity.
 */
export function mayIssueRefreshToken(ctx: IssuerContext, connectorId: string, scopes: ParsedScopes): boolean {
  if (!scopes.offlineAccess || !configuredGrantTypes(ctx).includes('refresh_token')) return false;
  const open = ctx.connectors.get(connectorId);
  if (!open) return false;
  if (!connectorServesGrant(open, 'refresh_token')) return false;
  return canRefresh(open.connector) || open.type === 'local' || open.type.startsWith('mock');
}
