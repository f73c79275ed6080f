/**
 * What every grant handler shares: its input and output types, required-parameter reading, the refresh
 * policy from config, and the rule for when a refresh token may be issued at all.
 */
import { canRefresh } from '../../connector.js';
import type { Client } from '../../storage/storage.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import type { ParsedScopes } from '../scopes.js';
import type { GrantType, TokenResponseBody } from './issue.js';
import type { RefreshPolicy } from './refresh-family.js';

export interface GrantRequest {
  ctx: IssuerContext;
  form: Record<string, string>;
  client: Client;
}

export interface GrantResult {
  body: TokenResponseBody;
  /** For the audit event: who and which session, never a token. */
  audit: { sid: string; userId: string; connectorId: string; scope: string };
}

export type GrantHandler = (request: GrantRequest) => Promise<GrantResult>;

export function requireParam(form: Record<string, string>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw new OAuthError('invalid_request', `the "${name}" parameter is required`);
  return value;
}

/** A client limited to some connectors (allowedConnectors) gets no tokens for a session of another (Dex #4889). */
export function checkConnectorAllowed(client: Client, connectorId: string): void {
  const allowed = client.allowedConnectors;
  if (allowed && allowed.length > 0 && !allowed.includes(connectorId)) {
    throw new OAuthError('invalid_grant', `client "${client.id}" may not use connector "${connectorId}"`);
  }
}

export const DEFAULT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];

export function enabledGrantTypes(ctx: IssuerContext): readonly GrantType[] {
  return ctx.config.oauth2.grantTypes ?? DEFAULT_GRANT_TYPES;
}

export function refreshPolicy(ctx: IssuerContext): RefreshPolicy {
  return ctx.config.expiry.refreshTokens;
}

/**
 * Dex's rule (shouldIssueRefreshToken): offline_access was granted, the refresh_token grant is enabled
 * (globally and for the connector), and the connector can re-read the identity.
 */
export function mayIssueRefreshToken(ctx: IssuerContext, connectorId: string, scopes: ParsedScopes): boolean {
  if (!scopes.offlineAccess || !enabledGrantTypes(ctx).includes('refresh_token')) return false;
  const open = ctx.connectors.get(connectorId);
  if (!open) return false;
  const configured = ctx.config.connectors.find((connector) => connector.id === connectorId)?.grantTypes;
  if (configured && !configured.includes('refresh_token')) return false;
  return canRefresh(open.connector) || open.type === 'local' || open.type.startsWith('mock');
}
