/**
 * The revocation endpoint (RFC 7009), POST {issuer}/token/revoke, client-authenticated like /token.
 * A refresh token revokes its whole grant: the family is deleted and its tokens denied (revocation.ts:
 * by `sid:<familyId>`, or for a family of a browser's login session by the `jti` of each access token
 * it issued, the `sid` being shared with the session's other clients). An access token (our JWT) is denied by `jti:<jti>` until
 * its exp; its session stays usable (RFC 7009 §2.1 lets us choose; revoking the grant is what
 * revoking the refresh token is for). Anything we cannot use or that is not the caller's is a 200
 * with no effect (§2.2), except an ID token: unsupported_token_type (§2.2.1). Audited, no token values.
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { cors } from '../http/cors.js';
import { readForm } from '../http/form.js';
import { AlreadyExistsError } from '../storage/storage.js';
import { authenticateClient, presentedClientId } from './client-auth/index.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';
import { protocolErrors } from './respond.js';
import { revokeSession } from './revocation.js';
import { classifySecret, parsePresentedRefreshToken, sidOf, type RefreshFamily } from './token/refresh-family.js';

export const REVOCATION_PATH = '/token/revoke';

/** What one revocation request did, for the audit line and for tests. */
export type RevocationOutcome =
  | { result: 'revoked'; tokenType: 'refresh_token'; sid: string }
  | { result: 'revoked'; tokenType: 'access_token'; jti: string; sid?: string }
  | { result: 'ignored'; reason: 'unknown_token' | 'other_client' | 'expired' };

const ignored = (reason: 'unknown_token' | 'other_client' | 'expired'): RevocationOutcome => ({ result: 'ignored', reason });

/** A compact JWS has three segments; a refresh token (`<familyId>.<secret>`) has two. */
function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}

async function revokeRefreshToken(ctx: IssuerContext, token: string, clientId: string): Promise<RevocationOutcome> {
  const parsed = parsePresentedRefreshToken(token);
  if (!parsed) return ignored('unknown_token');
  const family = (await ctx.storage.refreshTokens.get(parsed.familyId)) as RefreshFamily | undefined;
  // Dex's token format, as at /token, only for a family imported from Dex.
  if (parsed.format === 'dex' && family?.importedFrom !== 'dex') return ignored('unknown_token');
  // The previous secret counts even after its reuse interval: whoever holds it held the session.
  if (!family || classifySecret(family, parsed.secret, ctx.now()) === 'unknown') return ignored('unknown_token');
  if (family.clientId !== clientId) return ignored('other_client');
  await revokeSession(ctx, { sessionId: family.id, userId: family.identity.userId, clientId }, 'revoked_by_client');
  return { result: 'revoked', tokenType: 'refresh_token', sid: sidOf(family) };
}

/** Our own signature, issuer and lifetime; undefined for anything else (someone else's JWT, expired, forged). */
async function verifyOwnJwt(ctx: IssuerContext, token: string): Promise<{ payload: JWTPayload; typ: string | undefined } | undefined> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await ctx.signer.jwks()), {
      issuer: ctx.issuer,
      currentDate: new Date(ctx.now()),
    });
    return { payload, typ: protectedHeader.typ };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return undefined;
    throw error;
  }
}

async function revokeAccessToken(ctx: IssuerContext, token: string, clientId: string): Promise<RevocationOutcome> {
  const verified = await verifyOwnJwt(ctx, token);
  if (!verified) return ignored('unknown_token');
  const { payload, typ } = verified;
  if (typ !== 'at+jwt') throw new OAuthError('unsupported_token_type', 'only refresh tokens and access tokens can be revoked');
  if (payload.client_id !== clientId) return ignored('other_client');
  if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return ignored('unknown_token');
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  try {
    await ctx.storage.revocations.create({
      id: `jti:${payload.jti}`,
      kind: 'jti',
      value: payload.jti,
      createdAt: ctx.now(),
      expiresAt: payload.exp * 1000,
    });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  return { result: 'revoked', tokenType: 'access_token', jti: payload.jti, ...(sid ? { sid } : {}) };
}

/** RFC 7009 §2.1: the hint only orders the lookup; our two token formats cannot be confused. */
export async function revokeToken(ctx: IssuerContext, token: string, clientId: string): Promise<RevocationOutcome> {
  return looksLikeJwt(token) ? revokeAccessToken(ctx, token, clientId) : revokeRefreshToken(ctx, token, clientId);
}

/** The token_type_hint as it may be audited: a registered hint, "other" for the client's free text. */
function loggedHint(hint: string | undefined): string | undefined {
  if (hint === undefined) return undefined;
  return hint === 'access_token' || hint === 'refresh_token' ? hint : 'other';
}

export async function handleRevocationRequest(ctx: IssuerContext, koaCtx: Context): Promise<void> {
  let clientId: string | undefined;
  try {
    const form = await readForm(koaCtx);
    clientId = presentedClientId(koaCtx, form);
    const { client } = await authenticateClient(koaCtx, form, ctx.storage, { issuer: ctx });
    clientId = client.id;
    if (!form.token) throw new OAuthError('invalid_request', 'the "token" parameter is required');
    const outcome = await revokeToken(ctx, form.token, client.id);
    const { result, ...details } = outcome;
    ctx.audit.write({
      event: result === 'revoked' ? 'token_revoked' : 'token_revocation_ignored',
      outcome: result === 'revoked' ? 'succeeded' : 'ignored',
      clientId,
      hint: loggedHint(form.token_type_hint),
      ...details,
    });
    koaCtx.status = 200;
    koaCtx.set('Cache-Control', 'no-store');
    koaCtx.body = '';
  } catch (error) {
    if (error instanceof OAuthError) ctx.audit.write({ event: 'token_revocation_refused', outcome: 'refused', reason: error.code, clientId });
    throw error;
  }
}

export function mountRevocationRoutes(router: Router, ctx: IssuerContext): void {
  const chain: Middleware[] = [
    async (koaCtx, next) => {
      koaCtx.state.route = REVOCATION_PATH;
      await next();
    },
    cors({ allowedOrigins: ctx.config.web.allowedOrigins, allowedHeaders: ctx.config.web.allowedHeaders, methods: ['POST'] }),
  ];
  router.options(REVOCATION_PATH, ...chain);
  router.post(REVOCATION_PATH, ...chain, protocolErrors(ctx.logger), (koaCtx) => handleRevocationRequest(ctx, koaCtx));
}
