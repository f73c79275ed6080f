/**
 * The introspection endpoint (RFC 7662), POST {issuer}/token/introspect (Dex's path). Unlike Dex's it
 * needs client authentication, by a confidential client (a public client cannot prove who asks), and
 * it describes a token only to a client entitled to know it: an access token to the client it was
 * issued to (client_id) and to the clients its `aud` names (the resource servers it is meant for); a
 * refresh token to its own client only. Anything else (revoked, expired, malformed, foreign, another
 * client's, an ID token) is `{"active": false}`, which tells nothing (§2.2, §4). token_type_hint is a
 * hint only: our two formats cannot be confused. With `Accept: application/token-introspection+jwt`
 * the answer is a JWT signed with our current key (RFC 9701). Audited without token values.
 */
import type Router from '@koa/router';
import type { JWTPayload } from 'jose';
import type { Context, Middleware } from 'koa';
import type { Config } from '../config/load.js';
import { cors } from '../http/cors.js';
import { readForm } from '../http/form.js';
import type { Client } from '../storage/storage.js';
import { claimsForScopes, identityClaims, subjectOf, type Confirmation } from './claims.js';
import { authenticateClient, presentedClientId, supportedClientAuthMethods, type ClientAuthMethod } from './client-auth/index.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';
import { verifyOwnToken } from './own-token.js';
import { protocolErrors, sendJson } from './respond.js';
import { isIssuedTokenRevoked, isSessionRevoked, isSubjectRevoked } from './revocation.js';
import { parseScopes } from './scopes.js';
import { refreshPolicy } from './token/grant.js';
import { accessTokenType } from './token/issue.js';
import { classifySecret, familyExpiresAt, parsePresentedRefreshToken, type RefreshFamily } from './token/refresh-family.js';

export const INTROSPECTION_PATH = '/token/introspect';

/** Every client authentication method the config serves but none: a public client may not introspect. */
export function introspectionAuthMethods(config: Config): readonly ClientAuthMethod[] {
  return supportedClientAuthMethods(config).filter((method) => method !== 'none');
}

/** RFC 9701 §4: the media type a client asks for (Accept) to get a signed answer. */
export const INTROSPECTION_JWT_TYPE = 'application/token-introspection+jwt';

export type InactiveReason = 'unknown_token' | 'revoked' | 'expired' | 'other_client' | 'not_introspectable';

/** What introspecting one token found, for the answer, the audit line and tests. */
export type Introspection =
  | { active: true; tokenType: 'access_token' | 'refresh_token'; body: Record<string, unknown> }
  | { active: false; reason: InactiveReason };

const inactive = (reason: InactiveReason): Introspection => ({ active: false, reason });

function audienceOf(payload: JWTPayload): string[] {
  if (Array.isArray(payload.aud)) return payload.aud;
  return typeof payload.aud === 'string' ? [payload.aud] : [];
}

/**
 * The claims RFC 7662 §2.2 defines, as the token carries them, plus idgate's sid, RFC 8693's act and the
 * binding (RFC 8705 §3.2, RFC 9449 §6.2: cnf).
 */
const ACCESS_TOKEN_FIELDS = ['scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat', 'nbf', 'jti', 'sid', 'act', 'cnf'] as const;

/**
 * Dex's additions, kept so its clients read us unchanged: token_use (which kind of token), username
 * (preferred_username) and `ext`, the identity claims the token's scopes grant.
 */
function dexFields(use: 'access_token' | 'refresh_token', identity: JWTPayload): Record<string, unknown> {
  return {
    token_use: use,
    ...(typeof identity.preferred_username === 'string' && { username: identity.preferred_username }),
    ...(Object.keys(identity).length > 0 && { ext: identity }),
  };
}

async function introspectAccessToken(ctx: IssuerContext, token: string, client: Client): Promise<Introspection> {
  const verified = await verifyOwnToken(ctx, token);
  // Expired, forged, someone else's: all unknown to us. An ID token is not a credential for a resource.
  if (!verified) return inactive('unknown_token');
  if (verified.kind !== 'access_token') return inactive('not_introspectable');
  const { payload } = verified;
  if (payload.client_id !== client.id && !audienceOf(payload).includes(client.id)) return inactive('other_client');
  if (await isIssuedTokenRevoked(ctx, payload)) return inactive('revoked');
  const body: Record<string, unknown> = { active: true, token_type: accessTokenType(payload.cnf as Confirmation | undefined) };
  for (const field of ACCESS_TOKEN_FIELDS) if (payload[field] !== undefined) body[field] = payload[field];
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  return { active: true, tokenType: 'access_token', body: { ...body, ...dexFields('access_token', claimsForScopes(payload, scopes)) } };
}

/** The family's current secret only, its session and subject unrevoked, within the lifetimes (as the refresh grant checks). */
async function introspectRefreshToken(ctx: IssuerContext, token: string, client: Client): Promise<Introspection> {
  const parsed = parsePresentedRefreshToken(token);
  if (!parsed) return inactive('unknown_token');
  const family = (await ctx.storage.refreshTokens.get(parsed.familyId)) as RefreshFamily | undefined;
  if (!family || (parsed.format === 'dex' && family.importedFrom !== 'dex')) return inactive('unknown_token');
  if (classifySecret(family, parsed.secret, ctx.now()) !== 'current') return inactive('unknown_token');
  if (family.clientId !== client.id) return inactive('other_client');
  const sub = subjectOf(family.identity.userId, family.connectorId);
  if ((await isSessionRevoked(ctx, family.id)) || (await isSubjectRevoked(ctx, sub, { sinceMs: family.createdAt }))) return inactive('revoked');
  const expiresAt = familyExpiresAt(family.createdAt, family.lastUsedAt, refreshPolicy(ctx));
  if (expiresAt <= ctx.now()) return inactive('expired');
  const identity = identityClaims({ identity: family.identity, connectorId: family.connectorId, scopes: parseScopes(family.scopes, { alsoKnown: family.scopes }) });
  const body = {
    active: true, token_type: 'Bearer', scope: family.scopes.join(' '), client_id: family.clientId, sub, aud: family.clientId,
    iss: ctx.issuer, iat: Math.floor(family.createdAt / 1000), exp: Math.floor(expiresAt / 1000), sid: family.id,
    ...(family.cnf && { cnf: family.cnf }),
    ...dexFields('refresh_token', identity),
  };
  return { active: true, tokenType: 'refresh_token', body };
}

/** A compact JWS has three segments; a refresh token has two (ours) or none (Dex's). */
export async function introspect(ctx: IssuerContext, token: string, client: Client): Promise<Introspection> {
  return token.split('.').length === 3 ? introspectAccessToken(ctx, token, client) : introspectRefreshToken(ctx, token, client);
}

/** The token_type_hint as it may be audited: a registered hint, "other" for the client's free text. */
function loggedHint(hint: string | undefined): string | undefined {
  if (hint === undefined) return undefined;
  return hint === 'access_token' || hint === 'refresh_token' ? hint : 'other';
}

/**
 * How long a signed answer stands. It states a token's state at `iat`; an `exp` keeps it from being
 * replayed as a statement for long, and bounds it at any verifier that ignores `typ` and would take a
 * JWT of ours without `exp` for a bearer token.
 */
const SIGNED_ANSWER_LIFETIME_S = 60;

/** RFC 9701 §5: the answer as the `token_introspection` claim of a JWT for the asking client. */
async function sendSignedAnswer(ctx: IssuerContext, koaCtx: Context, client: Client, answer: Record<string, unknown>): Promise<void> {
  const iat = Math.floor(ctx.now() / 1000);
  const jwt = await ctx.signer.sign(
    { iss: ctx.issuer, aud: client.id, iat, exp: iat + SIGNED_ANSWER_LIFETIME_S, token_introspection: answer },
    { typ: 'token-introspection+jwt' },
  );
  koaCtx.status = 200;
  koaCtx.type = INTROSPECTION_JWT_TYPE;
  koaCtx.set('Cache-Control', 'no-store');
  koaCtx.body = jwt;
}

async function authenticateIntrospector(ctx: IssuerContext, koaCtx: Context, form: Record<string, string>): Promise<Client> {
  const { client } = await authenticateClient(koaCtx, form, ctx.storage, { issuer: ctx });
  if (client.public) throw new OAuthError('invalid_client', 'introspection needs a confidential client (a public client cannot authenticate)');
  return client;
}

export async function handleIntrospectionRequest(ctx: IssuerContext, koaCtx: Context): Promise<void> {
  let clientId: string | undefined;
  try {
    const form = await readForm(koaCtx);
    clientId = presentedClientId(koaCtx, form);
    const client = await authenticateIntrospector(ctx, koaCtx, form);
    clientId = client.id;
    if (!form.token) throw new OAuthError('invalid_request', 'the "token" parameter is required');
    const found = await introspect(ctx, form.token, client);
    ctx.audit.write({
      event: 'token_introspected', outcome: 'succeeded', clientId, active: found.active, hint: loggedHint(form.token_type_hint),
      ...(found.active ? { tokenType: found.tokenType } : { reason: found.reason }),
    });
    const answer = found.active ? found.body : { active: false };
    if (koaCtx.get('accept').includes(INTROSPECTION_JWT_TYPE)) await sendSignedAnswer(ctx, koaCtx, client, answer);
    else sendJson(koaCtx, 200, answer, { noStore: true });
  } catch (error) {
    if (error instanceof OAuthError) ctx.audit.write({ event: 'token_introspection_refused', outcome: 'refused', reason: error.code, clientId });
    throw error;
  }
}

export function mountIntrospectionRoutes(router: Router, ctx: IssuerContext): void {
  const chain: Middleware[] = [
    async (koaCtx, next) => {
      koaCtx.state.route = INTROSPECTION_PATH;
      await next();
    },
    cors({ allowedOrigins: ctx.config.web.allowedOrigins, allowedHeaders: ctx.config.web.allowedHeaders, methods: ['POST'] }),
  ];
  router.options(INTROSPECTION_PATH, ...chain);
  router.post(INTROSPECTION_PATH, ...chain, protocolErrors(ctx.logger), (koaCtx) => handleIntrospectionRequest(ctx, koaCtx));
}
