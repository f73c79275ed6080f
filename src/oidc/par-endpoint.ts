/**
 * The pushed authorization request endpoint (RFC 9126), POST {issuer}/par: the client authenticates as
 * at /token, posts the parameters it would send to /auth, and they run the authorization endpoint's
 * checks now, so a bad request is refused to the client (JSON, the RFC's error codes) before any browser
 * is involved. What passes is stored (storage.pushedAuthRequests, expiry.pushedAuthRequests) and named
 * by a one-time `request_uri` the client sends the browser to /auth with. Audited, no parameter values.
 */
import type { Context } from 'koa';
import { readForm } from '../http/form.js';
import { PUSH_CHECKS, runChecks } from './authorize/index.js';
import { randomToken } from './authorize/random.js';
import { REQUEST_URI_PREFIX } from './authorize/check_request_uri.js';
import { newAuthorizeState } from './authorize/state.js';
import { authenticateClient, presentedClientId } from './client-auth/index.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';
import { sendJson } from './respond.js';

export const PAR_PATH = '/par';

/** Client authentication, not part of the authorization request: never stored. */
const CLIENT_AUTH_PARAMS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

/** RFC 9126 §2.2 */
interface PushedAuthorizationResponse {
  request_uri: string;
  expires_in: number;
}

function authorizationParams(form: Record<string, string>, clientId: string): Record<string, string> {
  if (form.request_uri !== undefined) throw new OAuthError('invalid_request', 'request_uri must not be pushed (RFC 9126 §2.1)');
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) if (!CLIENT_AUTH_PARAMS.has(key)) params[key] = value;
  // Client authentication already refused a body client_id naming anyone else.
  params.client_id = clientId;
  return params;
}

export async function handlePushedAuthorizationRequest(ctx: IssuerContext, koaCtx: Context): Promise<void> {
  let clientId: string | undefined;
  try {
    const form = await readForm(koaCtx);
    clientId = presentedClientId(koaCtx, form);
    const { client } = await authenticateClient(koaCtx, form, ctx.storage, { issuer: ctx });
    clientId = client.id;
    const params = authorizationParams(form, client.id);
    await runChecks(newAuthorizeState(params, { pushed: true }), ctx, PUSH_CHECKS);

    const id = randomToken(32);
    const now = ctx.now();
    const lifetime = ctx.config.expiry.pushedAuthRequests;
    await ctx.storage.pushedAuthRequests.create({ id, clientId: client.id, params, createdAt: now, expiresAt: now + lifetime });
    ctx.audit.write({ event: 'authorization_request_pushed', outcome: 'succeeded', clientId });
    const body: PushedAuthorizationResponse = { request_uri: `${REQUEST_URI_PREFIX}${id}`, expires_in: Math.floor(lifetime / 1000) };
    sendJson(koaCtx, 201, body, { noStore: true });
  } catch (error) {
    if (error instanceof OAuthError) {
      ctx.audit.write({ event: 'authorization_request_push_refused', outcome: 'refused', reason: error.code, clientId, description: error.description });
    }
    throw error;
  }
}
