/**
 * Tokens for a person's finished login, shared by the grants that redeem one (authorization_code,
 * device_code) and by /auth's own tokens (implicit and hybrid responses): the granted session (scopes,
 * audience, RFC 8707 resources, the session id that becomes `sid`), a new refresh-token family where
 * Dex's rule allows one, and the signed tokens.
 */
import type { Client, StoredIdentity } from '../../storage/storage.js';
import type { Confirmation, GrantedSession } from '../claims.js';
import { withClientClaims } from '../client-claims.js';
import type { IssuerContext } from '../context.js';
import { parseScopes, resolveAudience } from '../scopes.js';
import { checkGroupsAllowed, mayIssueRefreshToken, refreshPolicy, type GrantResult } from './grant.js';
import { familyBinding } from './binding.js';
import { issueTokens, type GrantType } from './issue.js';
import { familyAccessTokenId, newFamily } from './refresh-family.js';

/** What a redeemed code or approved device request says about the login. */
export interface RedeemedLogin {
  connectorId: string;
  identity: StoredIdentity;
  connectorData?: string;
  scopes: string[];
  sessionId: string;
  /** `sessionId` is the browser's login session, shared with other clients (AuthCode.loginSession). */
  loginSession?: boolean;
  authTime: number;
  amr?: string[];
  acr?: string;
  nonce?: string;
  /** RFC 8707 resources the login granted; a refresh family keeps them for later narrowing. */
  resources?: string[];
}

/**
 * What the login grants `client`; `resources` (the granted ones or fewer) become the access token's
 * `aud`. The client's allowedGroups and claim rules run here, before anything is stored: a refusal is
 * invalid_grant.
 */
export async function grantedSession(ctx: IssuerContext, client: Client, login: RedeemedLogin, resources: readonly string[] = []): Promise<GrantedSession> {
  checkGroupsAllowed(client, login.identity);
  // Checked when the login was asked for; API scopes of the client's own list are known to it.
  const scopes = parseScopes(login.scopes, { alsoKnown: client.scopes });
  return withClientClaims(ctx, {
    issuer: ctx.issuer,
    clientId: client.id,
    connectorId: login.connectorId,
    identity: login.identity,
    scopes,
    audience: await resolveAudience(ctx.storage, client.id, scopes),
    ...(resources.length > 0 ? { resources: [...resources] } : {}),
    sessionId: login.sessionId,
    authTime: login.authTime,
    ...(login.amr ? { amr: login.amr } : {}),
    ...(login.acr !== undefined ? { acr: login.acr } : {}),
    nonce: login.nonce,
  });
}

export async function issueLoginTokens(
  ctx: IssuerContext,
  client: Client,
  login: RedeemedLogin,
  options: { grant: GrantType; includeNonce: boolean; resources?: readonly string[]; cnf: Confirmation | undefined },
): Promise<GrantResult> {
  const session = await grantedSession(ctx, client, login, options.resources);
  const { scopes } = session;
  // With a family, the access token carries its grant tag; without one, issueTokens draws a plain jti.
  let accessTokenId: string | undefined;
  let refreshToken: string | undefined;
  if (mayIssueRefreshToken(ctx, login.connectorId, scopes)) {
    const family = newFamily(session, login.connectorData, ctx.now(), refreshPolicy(ctx), { inLoginSession: login.loginSession === true });
    accessTokenId = familyAccessTokenId(family.record.id);
    // The family keeps what the login granted, not this token's narrowing: a refresh may ask for any of it.
    const granted = login.resources ?? [];
    await ctx.storage.refreshTokens.create({ ...family.record, ...(granted.length > 0 && { resources: granted }), ...familyBinding(client, options.cnf) });
    refreshToken = family.token;
  }
  const body = await issueTokens(ctx, session, { grant: options.grant, refreshToken, includeNonce: options.includeNonce, ...(accessTokenId && { accessTokenId }), ...(options.cnf && { cnf: options.cnf }) });
  return {
    body,
    audit: { sid: session.sessionId, userId: login.identity.userId, connectorId: login.connectorId, scope: body.scope },
  };
}
