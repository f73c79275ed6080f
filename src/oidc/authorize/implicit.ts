/**
 * The tokens /auth itself returns when the response type asks for them (OIDC Core §3.2 implicit and
 * §3.3 hybrid flows, Dex's `id_token`, `token` values): the same JWT access token /token issues (RFC
 * 9068; its `aud` the granted resources, when any) and an ID token carrying the nonce, `at_hash` for
 * that access token and `c_hash` for the code beside it. They share the code's session (`sid`). No
 * refresh token ever comes from here: that needs the code and the token endpoint.
 */
import { subjectOf, accessTokenClaims, idTokenClaims } from '../claims.js';
import type { IssuerContext } from '../context.js';
import { grantedSession } from '../token/login-tokens.js';
import type { AuthRequest, Client, StoredIdentity } from '../../storage/storage.js';
import type { ResponseType } from './check_response_type.js';

/** An auth request whose login is complete. */
export type LoggedInRequest = AuthRequest & { identity: StoredIdentity; connectorId: string; authTime: number };

/** The authorization response parameters for the tokens `type` asks for (OAuth 2.0 §4.2.2, OIDC Core §3.2.2.5). */
export interface FrontChannelTokens {
  access_token?: string;
  token_type?: 'Bearer';
  expires_in?: string;
  id_token?: string;
}

export async function frontChannelTokens(
  issuer: IssuerContext,
  client: Client,
  authRequest: LoggedInRequest,
  type: ResponseType,
  options: { sessionId: string; code?: string },
): Promise<FrontChannelTokens> {
  const session = await grantedSession(issuer, client, { ...authRequest, sessionId: options.sessionId }, authRequest.resources);
  const { scopes } = session;
  const { expiry } = issuer.config;
  const issuedAt = Math.floor(issuer.now() / 1000);
  const tokens: FrontChannelTokens = {};
  if (type.token) {
    tokens.access_token = await issuer.signer.sign(accessTokenClaims(session, { issuedAt, lifetimeMs: expiry.accessTokens }), { typ: 'at+jwt' });
    tokens.token_type = 'Bearer';
    tokens.expires_in = String(Math.floor(expiry.accessTokens / 1000));
    issuer.metrics.tokensIssued.inc({ grant: 'implicit', type: 'access_token' });
  }
  if (type.idToken) {
    const claims = idTokenClaims(session, {
      issuedAt,
      lifetimeMs: expiry.idTokens,
      algorithm: await issuer.signer.algorithm(),
      accessToken: tokens.access_token,
      code: options.code,
      includeNonce: true,
    });
    tokens.id_token = await issuer.signer.sign(claims, { typ: 'JWT' });
    issuer.metrics.tokensIssued.inc({ grant: 'implicit', type: 'id_token' });
  }
  issuer.audit.write({
    event: 'token_issued', outcome: 'succeeded', grant: 'implicit', clientId: authRequest.clientId,
    sid: options.sessionId, userId: authRequest.identity.userId, connectorId: authRequest.connectorId,
    subject: subjectOf(authRequest.identity.userId, authRequest.connectorId), scope: scopes.all.join(' '),
    refreshTokenIssued: false,
  });
  return tokens;
}
