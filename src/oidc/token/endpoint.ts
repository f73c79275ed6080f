/**
 * The token endpoint (RFC 6749 §3.2): reads the form, picks the grant, authenticates the client, runs
 * the grant's checks and answers with no-store JSON. Every outcome is audited without token values.
 */
import type { Context } from 'koa';
import { readForm } from '../../http/form.js';
import { authenticateClient } from '../client-auth.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { sendJson } from '../respond.js';
import { enabledGrantTypes, type GrantHandler } from './grant.js';
import { authorizationCodeGrant } from './grants/authorization_code.js';
import { refreshTokenGrant } from './grants/refresh_token.js';
import type { GrantType } from './issue.js';

const GRANTS: Record<GrantType, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
};

function selectGrant(ctx: IssuerContext, grantType: string | undefined): { type: GrantType; handler: GrantHandler } {
  if (!grantType) throw new OAuthError('invalid_request', 'the "grant_type" parameter is required');
  const enabled = enabledGrantTypes(ctx) as readonly string[];
  if (!Object.hasOwn(GRANTS, grantType) || !enabled.includes(grantType)) {
    throw new OAuthError('unsupported_grant_type', `grant_type "${grantType}" is not supported`);
  }
  return { type: grantType as GrantType, handler: GRANTS[grantType as GrantType] };
}

export async function handleTokenRequest(ctx: IssuerContext, koaCtx: Context): Promise<void> {
  let clientId: string | undefined;
  let grant: string | undefined;
  try {
    const form = await readForm(koaCtx);
    grant = form.grant_type;
    const { type, handler } = selectGrant(ctx, form.grant_type);
    const { client } = await authenticateClient(koaCtx, form, ctx.storage);
    clientId = client.id;
    const { body, audit } = await handler({ ctx, form, client });
    ctx.audit.write({ event: 'token_issued', grant: type, clientId, ...audit, refreshTokenIssued: body.refresh_token !== undefined });
    sendJson(koaCtx, 200, body, { noStore: true });
  } catch (error) {
    if (error instanceof OAuthError) {
      ctx.audit.write({ event: 'token_refused', grant, clientId, error: error.code, description: error.description });
    }
    throw error;
  }
}
