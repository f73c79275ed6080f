/**
 * DPoP proofs (RFC 9449 §4.3), as the issuer checks them at /token and /userinfo: one `DPoP` header,
 * a JWT of typ dpop+jwt signed with an asymmetric algorithm by the public key in its header, for this
 * request's method (htm) and URL (htu, without query and fragment), issued within oauth2.dpop.iatWindow
 * of our clock, with our nonce when oauth2.dpop.requireNonce is set, bound to the access token it
 * comes with (ath) at a resource, and used once: its jti is spent through storage, so every replica
 * refuses a replay. The result is the key's RFC 7638 thumbprint, the `jkt` tokens are bound to.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Context } from 'koa';
import { PRIVATE_KEY_JWT_ALGORITHMS } from '../../config/client-auth.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { currentNonce, isAcceptedNonce } from './nonce.js';

/** The same asymmetric allow-list as client assertions: never "none", never an HMAC. */
export const DPOP_ALGORITHMS: readonly string[] = PRIVATE_KEY_JWT_ALGORITHMS;

/** Far above any real proof (an RSA-4096 key and the claims are under 2 KiB); refused unread. */
const MAX_PROOF_LENGTH = 8_192;

const REPLAY_NAMESPACE = 'dpop-proof';

export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key, base64url: the tokens' `cnf.jkt`. */
  jkt: string;
}

export interface ProofExpectations {
  /** The URLs this request may have been sent to (requestURLs). */
  htu: readonly string[];
  /** At a resource: the access token the request presents, which the proof must name (ath). */
  accessToken?: string;
}

function invalidProof(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_dpop_proof', description, cause === undefined ? {} : { cause });
}

/** The URLs the request may have been sent to: its path under the issuer URL and under web.mtlsURL. */
export function requestURLs(ctx: IssuerContext, koaCtx: Context): string[] {
  const path = koaCtx.path.slice(ctx.basePath.length);
  const mtls = ctx.config.web.mtlsURL?.replace(/\/+$/, '');
  return [`${ctx.issuer}${path}`, ...(mtls ? [`${mtls}${path}`] : [])];
}

/** The request's DPoP header; undefined without one, invalid_dpop_proof for more than one (§4.3 step 1). */
function dpopHeader(koaCtx: Context): string | undefined {
  // Most requests send none; headersDistinct would copy every header of the request to find that out.
  if (koaCtx.req.headers.dpop === undefined) return undefined;
  const values = koaCtx.req.headersDistinct.dpop;
  if (!values || values.length === 0) return undefined;
  if (values.length > 1 || values[0]!.includes(',')) throw invalidProof('send one DPoP header, not several');
  return values[0];
}

/** The signature, typ, algorithm and embedded public key (§4.3 steps 2-6), by jose. */
async function verifySignature(proof: string): Promise<{ payload: JWTPayload; jwk: Record<string, unknown> }> {
  if (proof.length > MAX_PROOF_LENGTH) throw invalidProof(`the DPoP proof is longer than ${MAX_PROOF_LENGTH} characters`);
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS] });
    return { payload, jwk: protectedHeader.jwk as Record<string, unknown> };
  } catch (error) {
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      throw invalidProof(`the DPoP proof's alg is not accepted (accepted: ${DPOP_ALGORITHMS.join(', ')})`, error);
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'typ') throw invalidProof('the DPoP proof must have typ "dpop+jwt"', error);
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw invalidProof('the DPoP proof signature is invalid', error);
    if (error instanceof joseErrors.JOSEError) throw invalidProof(`the DPoP proof is not a valid JWT signed by the key in its header (${error.code})`, error);
    throw error;
  }
}

/** The URL without query and fragment, as WHATWG normalizes it; undefined if it is not one. */
function normalizedURL(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  url.search = '';
  url.hash = '';
  return url.href;
}

/** htm, htu and ath (§4.3 steps 8-9, 11); `jti` and `iat` must be there. */
function checkRequestClaims(payload: JWTPayload, koaCtx: Context, expected: ProofExpectations): { jti: string; iat: number } {
  const { jti, iat, htm, htu, ath } = payload;
  if (typeof jti !== 'string' || jti === '') throw invalidProof('the DPoP proof has no jti');
  if (typeof iat !== 'number') throw invalidProof('the DPoP proof has no iat');
  if (htm !== koaCtx.method) throw invalidProof(`the DPoP proof's htm is not this request's method (${koaCtx.method})`);
  const target = typeof htu === 'string' ? normalizedURL(htu) : undefined;
  if (!target || !expected.htu.some((url) => normalizedURL(url) === target)) {
    throw invalidProof(`the DPoP proof's htu is not this request's URL (${expected.htu[0]})`);
  }
  if (expected.accessToken !== undefined && ath !== createHash('sha256').update(expected.accessToken, 'ascii').digest('base64url')) {
    throw invalidProof("the DPoP proof's ath is not the hash of the access token it comes with");
  }
  return { jti, iat };
}

/** §4.3 step 11: within the window either way; returns until when the jti must be remembered (ms). */
function checkIssuedAt(ctx: IssuerContext, iat: number): number {
  const window = ctx.config.oauth2.dpop.iatWindow;
  const nowS = ctx.now() / 1000;
  if (iat < nowS - window / 1000) throw invalidProof(`the DPoP proof is too old (its iat is more than ${window / 1000} s ago)`);
  if (iat > nowS + window / 1000) throw invalidProof(`the DPoP proof's iat is in the future (more than ${window / 1000} s ahead)`);
  return iat * 1000 + window;
}

/** §8: with requireNonce, a nonce of ours; the next one is announced in DPoP-Nonce whenever it is not the one used. */
async function checkNonce(ctx: IssuerContext, koaCtx: Context, nonce: unknown): Promise<void> {
  if (!ctx.config.oauth2.dpop.requireNonce) return;
  const current = await currentNonce(ctx);
  if (nonce !== current) koaCtx.set('DPoP-Nonce', current);
  if (typeof nonce !== 'string' || !(await isAcceptedNonce(ctx, nonce))) {
    const description = nonce === undefined ? 'the DPoP proof must carry the nonce in DPoP-Nonce' : 'the DPoP nonce is stale or not ours: use the one in DPoP-Nonce';
    throw new OAuthError('use_dpop_nonce', description, { headers: { 'DPoP-Nonce': current } });
  }
}

/** §11.1: the jti, scoped by the key (one client's choice cannot spend another's), once until it could no longer pass. */
async function checkNotReplayed(ctx: IssuerContext, jkt: string, jti: string, rememberUntil: number): Promise<void> {
  const id = createHash('sha256').update(`${jkt}\u0000${jti}`).digest('base64url');
  if (!(await ctx.storage.markUsed(REPLAY_NAMESPACE, id, rememberUntil))) throw invalidProof('the DPoP proof was already used (its jti was seen before)');
}

/** The request's verified DPoP proof, undefined when it sends none; invalid_dpop_proof or use_dpop_nonce otherwise. */
export async function verifyDpopProof(ctx: IssuerContext, koaCtx: Context, expected: ProofExpectations): Promise<DpopProof | undefined> {
  const proof = dpopHeader(koaCtx);
  if (proof === undefined) return undefined;
  const { payload, jwk } = await verifySignature(proof);
  const { jti, iat } = checkRequestClaims(payload, koaCtx, expected);
  const rememberUntil = checkIssuedAt(ctx, iat);
  await checkNonce(ctx, koaCtx, payload.nonce);
  const jkt = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256');
  await checkNotReplayed(ctx, jkt, jti, rememberUntil);
  return { jkt };
}
