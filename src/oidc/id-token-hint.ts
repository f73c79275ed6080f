/**
 * `id_token_hint` (OIDC Core §3.1.2.1 at /auth, RP-Initiated Logout 1.0 §2 at /logout): an ID token we
 * issued, passed back as a hint of who the client believes is signed in. It must carry our signature
 * (a published key, an allowed algorithm), our issuer and the ID token `typ`; it may have expired, as
 * both specs allow (a hint is often sent after the token's lifetime). Anything else is no hint at all.
 */
import { compactVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { SIGNING_ALGORITHMS } from '../keys/generate.js';
import type { IssuerContext } from './context.js';
import { keySetFor, TOKEN_TYP } from './own-token.js';

export interface IdTokenHint {
  sub: string;
  /** The token's audience (the client, and peers asked for with audience:server:client_id:). */
  aud: string[];
  /** The client it was issued to: `azp`, else the single audience. */
  clientId: string | undefined;
  sid: string | undefined;
}

/** The hint's claims, or undefined when it is not an ID token of ours (forged, another issuer's, not a JWT). */
export async function verifyIdTokenHint(ctx: Pick<IssuerContext, 'signer' | 'issuer'>, token: string): Promise<IdTokenHint | undefined> {
  let payload: JWTPayload;
  try {
    const verified = await compactVerify(token, keySetFor(ctx.signer, await ctx.signer.jwks()), { algorithms: [...SIGNING_ALGORITHMS] });
    if (verified.protectedHeader.typ !== TOKEN_TYP.id_token) return undefined;
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as JWTPayload;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (payload === null || typeof payload !== 'object' || payload.iss !== ctx.issuer || typeof payload.sub !== 'string') return undefined;
  const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud.filter((value): value is string => typeof value === 'string') : [];
  const azp = typeof payload.azp === 'string' ? payload.azp : undefined;
  return {
    sub: payload.sub,
    aud,
    clientId: azp ?? (aud.length === 1 ? aud[0] : undefined),
    sid: typeof payload.sid === 'string' ? payload.sid : undefined,
  };
}
