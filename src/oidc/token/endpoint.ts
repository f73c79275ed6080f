/**
 * The token endpoint (RFC 6749 §3.2): reads the form, picks the grant, authenticates the client, reads
 * what the tokens are bound to (a DPoP proof, the client certificate), runs the grant's checks and
 * answers with no-store JSON. Every outcome is audited without token values, and
 * without a grant_type value idgate does not know.
 */
import type { Context } from 'koa';
import { GRANT_TYPES } from '../../config/schema.js';
import { readForm } from '../../http/form.js';
import { clientIPReader } from '../../login/client-ip.js';
import type { Client } from '../../storage/storage.js';
import { subjectOf } from '../claims.js';
import { authenticateClient, presentedClientId } from '../client-auth/index.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { sendJson } from '../respond.js';
import { clientGrantTypes, type GrantHandler } from './grant.js';
import { enabledGrantTypes, GRANTS } from './grants/index.js';
import { bindingNames, requestBinding } from './binding.js';
import type { GrantType } from './issue.js';

/**
 * Grant types that may be named in the audit log and in error_description: idgate's own and the other
 * registered ones a client may try. Any other value is the client's free text (perhaps a token pasted
 * into the wrong field), so it is written as "unsupported" and never echoed.
 */
const NAMED_GRANT_TYPES: ReadonlySet<string> = new Set([
  ...GRANT_TYPES,
  'implicit',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:saml2-bearer',
  'urn:openid:params:grant-type:ciba',
]);

/** The grant_type as it may be logged: a registered name, "unsupported" for anything else, undefined when absent. */
function loggedGrantType(grantType: string | undefined): string | undefined {
  if (!grantType) return undefined;
  return NAMED_GRANT_TYPES.has(grantType) ? grantType : 'unsupported';
}

function selectGrant(ctx: IssuerContext, grantType: string | undefined, only?: readonly GrantType[]): { type: GrantType; handler: GrantHandler } {
  if (!grantType) throw new OAuthError('invalid_request', 'the "grant_type" parameter is required');
  const enabled = enabledGrantTypes(ctx).filter((type) => !only || only.includes(type)) as readonly string[];
  const handler = enabled.includes(grantType) ? GRANTS[grantType as GrantType] : undefined;
  if (!handler) {
    const named = loggedGrantType(grantType);
    throw new OAuthError('unsupported_grant_type', named === 'unsupported' ? 'the grant_type is not supported' : `grant_type "${named}" is not supported`);
  }
  return { type: grantType as GrantType, handler };
}

/** RFC 6749 §5.2 unauthorized_client: the client is not registered for this grant (its grantTypes). */
function checkClientMayUse(client: Client, type: GrantType): void {
  if (!clientGrantTypes(client).includes(type)) {
    throw new OAuthError('unauthorized_client', `client "${client.id}" is not registered for grant_type "${type}" (its grantTypes)`);
  }
}

/**
 * An endpoint's token requests; `grantTypes` limits which grants it serves (Dex's /device/token serves
 * the device grant only).
 */
export async function handleTokenRequest(ctx: IssuerContext, koaCtx: Context, options: { grantTypes?: readonly GrantType[] } = {}): Promise<void> {
  let clientId: string | undefined;
  let grant: string | undefined;
  try {
    const form = await readForm(koaCtx);
    grant = loggedGrantType(form.grant_type);
    clientId = presentedClientId(koaCtx, form);
    const { type, handler } = selectGrant(ctx, form.grant_type, options.grantTypes);
    const { client } = await authenticateClient(koaCtx, form, ctx.storage, { issuer: ctx });
    clientId = client.id;
    checkClientMayUse(client, type);
    const cnf = await requestBinding(ctx, koaCtx, client);
    const { body, audit } = await handler({ ctx, form, client, clientIP: () => clientIPReader(ctx.config)(koaCtx), cnf });
    const subject = audit.userId !== undefined && audit.connectorId !== undefined ? subjectOf(audit.userId, audit.connectorId) : undefined;
    ctx.audit.write({
      event: 'token_issued', outcome: 'succeeded', grant: type, clientId, ...audit,
      subject, refreshTokenIssued: body.refresh_token !== undefined,
      ...(cnf && { binding: bindingNames(cnf) }),
    });
    sendJson(koaCtx, 200, body, { noStore: true });
  } catch (error) {
    // authorization_pending is a device poll's every answer until the person decides: not an event.
    if (error instanceof OAuthError && error.code !== 'authorization_pending') {
      ctx.audit.write({ event: 'token_refused', outcome: 'refused', reason: error.code, grant, clientId, description: error.description });
    }
    throw error;
  }
}
