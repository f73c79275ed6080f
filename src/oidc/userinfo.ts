/**
 * The UserInfo endpoint (OIDC Core §5.3): GET or POST with a Bearer access token (Authorization header,
 * or the `access_token` form field on POST per RFC 6750 §2.2). The token must be one of ours: signed by
 * a published key with an allowed algorithm, typ at+jwt, our issuer, unexpired, its session not revoked.
 * Answers the identity claims its scopes granted; failures carry `WWW-Authenticate: Bearer`.
 */
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Context } from 'koa';
import { readForm } from '../http/form.js';
import { SIGNING_ALGORITHMS } from '../keys/generate.js';
import type { PublicJwks } from '../keys/keyset.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';
import { sendJson } from './respond.js';
import { isSessionRevoked, isSubjectRevoked, isTokenRevoked } from './revocation.js';

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

/** Keeps the jose key set until the published keys change. */
function keySetCache() {
  let cached: { fingerprint: string; keySet: ReturnType<typeof createLocalJWKSet> } | undefined;
  return (jwks: PublicJwks) => {
    const fingerprint = jwks.keys.map((key) => key.kid).join(',');
    if (cached?.fingerprint !== fingerprint) cached = { fingerprint, keySet: createLocalJWKSet(jwks) };
    return cached.keySet;
  };
}

/** Claims /userinfo returns, each only if its scope was granted to the access token. */
const CLAIMS_BY_SCOPE: Record<string, readonly string[]> = {
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username'],
  groups: ['groups'],
  'federated:id': ['federated_claims'],
};

export function userInfoClaims(payload: JWTPayload): Record<string, unknown> {
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  const claims: Record<string, unknown> = { sub: payload.sub };
  for (const scope of scopes) {
    for (const name of CLAIMS_BY_SCOPE[scope] ?? []) if (payload[name] !== undefined) claims[name] = payload[name];
  }
  return claims;
}

export function createUserInfoHandler(ctx: IssuerContext): (koaCtx: Context) => Promise<void> {
  const keySetFor = keySetCache();
  return async (koaCtx) => {
    const token = await presentedToken(koaCtx);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySetFor(await ctx.signer.jwks()), {
        issuer: ctx.issuer,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGORITHMS],
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: new Date(ctx.now()),
      }));
    } catch {
      throw invalidToken('the access token is invalid or expired');
    }
    if (
      (typeof payload.sid === 'string' && (await isSessionRevoked(ctx, payload.sid))) ||
      (typeof payload.jti === 'string' && (await isTokenRevoked(ctx, payload.jti))) ||
      (await isSubjectRevoked(ctx, payload.sub!, { iat: payload.iat }))
    ) {
      throw invalidToken('the access token was revoked');
    }
    koaCtx.set('Cache-Control', 'no-store');
    sendJson(koaCtx, 200, userInfoClaims(payload));
  };
}
