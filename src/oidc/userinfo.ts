/**
 * The UserInfo endpoint (OIDC Core §5.3): GET or POST with a Bearer access token (Authorization header,
 * or the `access_token` form field on POST per RFC 6750 §2.2). The token must be one of ours: signed by
 * a published key with an allowed algorithm, typ at+jwt, our issuer, unexpired, its session not revoked.
 * Answers the identity claims its scopes granted; failures carry `WWW-Authenticate: Bearer`.
 */
import type { JWTPayload } from 'jose';
import type { Context } from 'koa';
import { readForm } from '../http/form.js';
import { claimsForScopes } from './claims.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';
import { verifyOwnToken } from './own-token.js';
import { sendJson } from './respond.js';
import { isIssuedTokenRevoked } from './revocation.js';

const REALM = 'Bearer realm="idgate"';

function invalidToken(description: string): OAuthError {
  return new OAuthError('invalid_token', description, { wwwAuthenticate: `${REALM}, error="invalid_token", error_description="${description}"` });
}

/** RFC 6750 §3.1: a request without credentials gets a bare challenge. */
function missingToken(): OAuthError {
  return new OAuthError('invalid_request', 'a Bearer access token is required', { status: 401, wwwAuthenticate: REALM });
}

async function presentedToken(koaCtx: Context): Promise<string> {
  const header = koaCtx.get('authorization');
  const fromHeader = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header)?.[1];
  if (header && !fromHeader) throw invalidToken('malformed Authorization header');
  let fromBody: string | undefined;
  if (koaCtx.method === 'POST' && koaCtx.is('application/x-www-form-urlencoded')) fromBody = (await readForm(koaCtx)).access_token;
  if (fromHeader && fromBody) {
    throw new OAuthError('invalid_request', 'send the access token in one place only', { wwwAuthenticate: `${REALM}, error="invalid_request"` });
  }
  const token = fromHeader ?? fromBody;
  if (!token) throw missingToken();
  return token;
}

/** Claims /userinfo returns: `sub`, and each identity claim only if its scope was granted to the access token. */
export function userInfoClaims(payload: JWTPayload): Record<string, unknown> {
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  return { sub: payload.sub, ...claimsForScopes(payload, scopes) };
}

export function createUserInfoHandler(ctx: IssuerContext): (koaCtx: Context) => Promise<void> {
  return async (koaCtx) => {
    const token = await presentedToken(koaCtx);
    const verified = await verifyOwnToken(ctx, token);
    if (verified?.kind !== 'access_token') throw invalidToken('the access token is invalid or expired');
    const { payload } = verified;
    if (await isIssuedTokenRevoked(ctx, payload)) throw invalidToken('the access token was revoked');
    koaCtx.set('Cache-Control', 'no-store');
    sendJson(koaCtx, 200, userInfoClaims(payload));
  };
}
