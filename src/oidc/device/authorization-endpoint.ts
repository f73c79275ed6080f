/**
 * The device authorization endpoint (RFC 8628 §3.1-3.2), at Dex's /device/code: the client
 * authenticates as at /token (a public client names itself with client_id), asks for scopes (and, as
 * Dex allows, a PKCE challenge), and gets a device code to poll with, a user code for the person and
 * where to enter it. Served only while the device grant is enabled; every outcome is audited, no code.
 */
import type { Context } from 'koa';
import { readForm } from '../../http/form.js';
import type { Client } from '../../storage/storage.js';
import { authenticateClient, presentedClientId } from '../client-auth/index.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { sendJson } from '../respond.js';
import { parseClientScopes, resolveAudience } from '../scopes.js';
import { clientGrantTypes } from '../token/grant.js';
import { enabledGrantTypes } from '../token/grants/index.js';
import { codeChallengeMethods } from '../token/pkce.js';
import { createDeviceRequest, DEVICE_CODE_GRANT, DEVICE_PATHS, type NewDeviceRequest } from './device-request.js';

/** The device flow is served (endpoint, pages, discovery) only while its grant is enabled. */
export function deviceFlowEnabled(ctx: IssuerContext): boolean {
  return enabledGrantTypes(ctx).includes(DEVICE_CODE_GRANT);
}

/** RFC 8628 §3.2 */
interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

function checkClientMayUseDeviceGrant(client: Client): void {
  if (!clientGrantTypes(client).includes(DEVICE_CODE_GRANT)) {
    throw new OAuthError('unauthorized_client', `client "${client.id}" is not registered for grant_type "${DEVICE_CODE_GRANT}" (its grantTypes)`);
  }
}

/** `scope` is optional (RFC 8628 §3.1); absent, Dex asks for openid. Otherwise the rules of /auth. */
async function checkScope(ctx: IssuerContext, client: Client, scope: string | undefined): Promise<string[]> {
  const scopes = parseClientScopes(client, scope === undefined || scope.trim() === '' ? 'openid' : scope);
  if (!scopes.openid) throw new OAuthError('invalid_scope', 'the scope must include "openid"');
  await resolveAudience(ctx.storage, client.id, scopes);
  return scopes.all;
}

const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * An optional PKCE challenge (Dex accepts one here; RFC 8628 has none, so it is never required); the
 * poll must then send its verifier. The methods are those /auth accepts (oauth2.pkce.allowPlain).
 */
function checkPkce(ctx: IssuerContext, form: Record<string, string>): Pick<NewDeviceRequest, 'codeChallenge' | 'codeChallengeMethod'> {
  const challenge = form.code_challenge;
  const method = form.code_challenge_method;
  if (challenge === undefined) {
    if (method !== undefined) throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge');
    return {};
  }
  const resolved = method ?? 'plain';
  if (!(codeChallengeMethods(ctx.config.oauth2.pkce) as string[]).includes(resolved)) {
    throw new OAuthError('invalid_request', `code_challenge_method "${resolved}" is not accepted: use code_challenge_method=S256`);
  }
  if (!CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]');
  return { codeChallenge: challenge, codeChallengeMethod: resolved as 'S256' | 'plain' };
}

export async function handleDeviceAuthorization(ctx: IssuerContext, koaCtx: Context): Promise<void> {
  let clientId: string | undefined;
  try {
    const form = await readForm(koaCtx);
    clientId = presentedClientId(koaCtx, form);
    const { client } = await authenticateClient(koaCtx, form, ctx.storage, { issuer: ctx });
    clientId = client.id;
    checkClientMayUseDeviceGrant(client);
    const scopes = await checkScope(ctx, client, form.scope);
    const { deviceCode, userCode, record } = await createDeviceRequest(ctx, { client, scopes, ...checkPkce(ctx, form) });
    const verificationURI = `${ctx.issuer}${DEVICE_PATHS.verification}`;
    const body: DeviceAuthorizationResponse = {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationURI,
      verification_uri_complete: `${verificationURI}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: Math.floor(ctx.config.expiry.deviceRequests / 1000),
      interval: record.interval,
    };
    ctx.audit.write({ event: 'device_authorization', outcome: 'succeeded', clientId, scope: scopes.join(' '), pkce: record.codeChallenge !== undefined });
    sendJson(koaCtx, 200, body, { noStore: true });
  } catch (error) {
    if (error instanceof OAuthError) {
      ctx.audit.write({ event: 'device_authorization', outcome: 'refused', reason: error.code, clientId, description: error.description });
    }
    throw error;
  }
}
