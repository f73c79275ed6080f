/**
 * The UserInfo endpoint (OIDC Core §5.3): GET or POST with a Bearer access token (Authorization header,
 * or the `access_token` form field on POST per RFC 6750 §2.2), or a DPoP-bound one with the DPoP scheme
 * and a proof (RFC 9449 §7). The token must be one of ours: signed by a published key with an allowed
 * algorithm, typ at+jwt, our issuer, unexpired, its session not revoked, and presented with what it is
 * bound to (resource-binding.ts). Answers the identity claims its scopes granted; failures carry
 * `WWW-Authenticate` for the scheme used.
 */
import type { JWTPayload } from 'jose';
import type { Context } from 'koa';
import { readForm } from '../http/form.js';
import { claimsForScopes, type Confirmation } from './claims.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';
import { verifyOwnToken } from './own-token.js';
import { challenge, checkTokenBinding, invalidToken, type TokenScheme } from './resource-binding.js';
import { sendJson } from './respond.js';
import { isIssuedTokenRevoked } from './revocation.js';

/** RFC 6750 §3.1: a request without credentials gets a bare challenge. */
function missingToken(): OAuthError {
  return new OAuthError('invalid_request', 'a Bearer access token is required', { status: 401, wwwAuthenticate: challenge('Bearer') });
}

/** The token and the scheme it came with; the form field counts as Bearer (RFC 6750 §2.2; DPoP has no form field). */
async function presentedToken(koaCtx: Context): Promise<{ token: string; scheme: TokenScheme }> {
  const header = koaCtx.get('authorization');
  const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (header && !match) throw invalidToken('Bearer', 'malformed Authorization header');
  const fromHeader = match && { token: match[2]!, scheme: (match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer') as TokenScheme };
  let fromBody: string | undefined;
  if (koaCtx.method === 'POST' && koaCtx.is('application/x-www-form-urlencoded')) fromBody = (await readForm(koaCtx)).access_token;
  if (fromHeader && fromBody) {
    throw new OAuthError('invalid_request', 'send the access token in one place only', { wwwAuthenticate: challenge('Bearer', 'invalid_request') });
  }
  if (fromHeader) return fromHeader;
  if (!fromBody) throw missingToken();
  return { token: fromBody, scheme: 'Bearer' };
}

/** Claims /userinfo returns: `sub`, and each identity claim only if its scope was granted to the access token. */
export function userInfoClaims(payload: JWTPayload): Record<string, unknown> {
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  return { sub: payload.sub, ...claimsForScopes(payload, scopes) };
}

export function createUserInfoHandler(ctx: IssuerContext): (koaCtx: Context) => Promise<void> {
  return async (koaCtx) => {
    const presented = await presentedToken(koaCtx);
    const verified = await verifyOwnToken(ctx, presented.token);
    if (verified?.kind !== 'access_token') throw invalidToken(presented.scheme, 'the access token is invalid or expired');
    const { payload } = verified;
    await checkTokenBinding(ctx, koaCtx, presented, payload.cnf as Confirmation | undefined);
    if (await isIssuedTokenRevoked(ctx, payload)) throw invalidToken(presented.scheme, 'the access token was revoked');
    koaCtx.set('Cache-Control', 'no-store');
    sendJson(koaCtx, 200, userInfoClaims(payload));
  };
}
