/**
 * Reading back a JWT idgate issued, for the endpoints that are handed one (userinfo, token exchange,
 * introspection): signed by a published key with an allowed algorithm, our issuer, unexpired, with
 * sub, exp and iat; the JOSE `typ` tells an access token (at+jwt) from an ID token (JWT). Whether it
 * was revoked since is revocation.ts's isIssuedTokenRevoked.
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { SIGNING_ALGORITHMS } from '../keys/generate.js';
import type { PublicJwks, Signer } from '../keys/keyset.js';
import type { IssuerContext } from './context.js';

/** The JOSE header `typ` of each kind of token idgate signs. */
export const TOKEN_TYP = { access_token: 'at+jwt', id_token: 'JWT' } as const;

export type OwnTokenKind = keyof typeof TOKEN_TYP;

export interface OwnToken {
  payload: JWTPayload;
  /** From the header `typ`; undefined for a JWT of ours that is neither (none is issued today). */
  kind: OwnTokenKind | undefined;
}

/**
 * The jose key set for the published keys, rebuilt only when they change (a rotation), so keys are
 * imported once, not on every request. Keyed by the signer: one per issuer, like the signer itself.
 */
const keySets = new WeakMap<Signer, { fingerprint: string; keySet: ReturnType<typeof createLocalJWKSet> }>();

export function keySetFor(signer: Signer, jwks: PublicJwks): ReturnType<typeof createLocalJWKSet> {
  const fingerprint = jwks.keys.map((key) => key.kid).join(',');
  let cached = keySets.get(signer);
  if (cached?.fingerprint !== fingerprint) keySets.set(signer, (cached = { fingerprint, keySet: createLocalJWKSet(jwks) }));
  return cached.keySet;
}

function kindOf(typ: string | undefined): OwnTokenKind | undefined {
  if (typ === TOKEN_TYP.access_token) return 'access_token';
  return typ === TOKEN_TYP.id_token ? 'id_token' : undefined;
}

/** Our signature, issuer and lifetime; undefined for anything else (someone else's JWT, expired, forged, not a JWT). */
export async function verifyOwnToken(ctx: Pick<IssuerContext, 'signer' | 'issuer' | 'now'>, token: string): Promise<OwnToken | undefined> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keySetFor(ctx.signer, await ctx.signer.jwks()), {
      issuer: ctx.issuer,
      algorithms: [...SIGNING_ALGORITHMS],
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: new Date(ctx.now()),
    });
    return { payload, kind: kindOf(protectedHeader.typ) };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return undefined;
    throw error;
  }
}
