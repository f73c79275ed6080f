/**
 * Signs what a grant established into the token response: a JWT access token (typ at+jwt), an ID token
 * bound to it by at_hash, and the refresh token the grant decided on; or, for the grants that answer
 * with one token (client_credentials, token exchange), that token alone. An access token carries the
 * `cnf` the request bound it to (token/binding.ts). Counts every token issued.
 */
import type { GRANT_TYPES } from '../../config/schema.js';
import type { IssuerContext } from '../context.js';
import {
  accessTokenClaims, contentAccessTokenClaims, contentIdTokenClaims, idTokenClaims, sessionContent, type Confirmation, type GrantedSession,
  type TokenContent,
} from '../claims.js';
import { TOKEN_TYP, type OwnTokenKind } from '../own-token.js';

export type GrantType = (typeof GRANT_TYPES)[number];

/** The successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3, RFC 8693 §2.2.1). */
export interface TokenResponseBody {
  access_token: string;
  /** RFC 9449 §5: DPoP for an access token bound to a DPoP key. */
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  scope: string;
  /** RFC 8693: the type of the token issued by a token exchange. */
  issued_token_type?: string;
}

/** RFC 9449 §5: an access token bound to a DPoP key is of type DPoP; a certificate-bound one stays Bearer (RFC 8705 §3). */
export function accessTokenType(cnf: Confirmation | undefined): 'Bearer' | 'DPoP' {
  return cnf?.jkt !== undefined ? 'DPoP' : 'Bearer';
}

export async function issueTokens(
  ctx: IssuerContext,
  session: GrantedSession,
  options: { grant: GrantType; refreshToken?: string; includeNonce: boolean; accessTokenId?: string; cnf?: Confirmation },
): Promise<TokenResponseBody> {
  const { expiry } = ctx.config;
  const issuedAt = Math.floor(ctx.now() / 1000);
  // Both tokens say the same about the session: its subject and identity claims are worked out once.
  const content = sessionContent(session);
  const accessToken = await ctx.signer.sign(
    accessTokenClaims(session, {
      issuedAt, lifetimeMs: expiry.accessTokens,
      ...(options.accessTokenId !== undefined ? { jti: options.accessTokenId } : {}),
      ...(options.cnf ? { cnf: options.cnf } : {}),
    }, content),
    { typ: 'at+jwt' },
  );
  const algorithm = await ctx.signer.algorithm();
  const idToken = await ctx.signer.sign(
    idTokenClaims(session, { issuedAt, lifetimeMs: expiry.idTokens, algorithm, accessToken, includeNonce: options.includeNonce }, content),
    { typ: 'JWT' },
  );
  ctx.metrics.tokensIssued.inc({ grant: options.grant, type: 'access_token' });
  ctx.metrics.tokensIssued.inc({ grant: options.grant, type: 'id_token' });
  if (options.refreshToken) ctx.metrics.tokensIssued.inc({ grant: options.grant, type: 'refresh_token' });
  return {
    access_token: accessToken,
    token_type: accessTokenType(options.cnf),
    expires_in: Math.floor(expiry.accessTokens / 1000),
    id_token: idToken,
    ...(options.refreshToken ? { refresh_token: options.refreshToken } : {}),
    scope: session.scopes.all.join(' '),
  };
}

/** One signed token of `kind` for `content`, and its lifetime in seconds (expires_in). */
export async function issueToken(
  ctx: IssuerContext,
  content: TokenContent,
  options: { grant: GrantType; kind: OwnTokenKind; cnf?: Confirmation; accessTokenId?: string },
): Promise<{ token: string; expiresIn: number }> {
  const issuedAt = Math.floor(ctx.now() / 1000);
  const claims = options.kind === 'access_token'
    ? contentAccessTokenClaims(content, {
      issuedAt, lifetimeMs: ctx.config.expiry.accessTokens, ...(options.cnf ? { cnf: options.cnf } : {}), ...(options.accessTokenId ? { jti: options.accessTokenId } : {}),
    })
    : contentIdTokenClaims(content, { issuedAt, lifetimeMs: ctx.config.expiry.idTokens, algorithm: await ctx.signer.algorithm() });
  const token = await ctx.signer.sign(claims, { typ: TOKEN_TYP[options.kind] });
  ctx.metrics.tokensIssued.inc({ grant: options.grant, type: options.kind });
  return { token, expiresIn: claims.exp! - issuedAt };
}
