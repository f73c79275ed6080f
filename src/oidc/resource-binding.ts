/**
 * The issuer's own protected resource (/userinfo) holding a sender-constrained token to its binding:
 * a DPoP-bound token (cnf.jkt) only with the DPoP scheme and a proof by that key for this request and
 * this token (RFC 9449 §7.1: ath), never as Bearer; a token that is not DPoP-bound never with the
 * DPoP scheme; a certificate-bound token (cnf x5t#S256) only with that certificate (RFC 8705 §3).
 * Failures are 401 with the challenge of the scheme at play (RFC 9449 §7.1, RFC 6750 §3).
 */
import type { Context } from 'koa';
import type { Confirmation } from './claims.js';
import { requestCertificate } from './client-certificate.js';
import type { IssuerContext } from './context.js';
import { DPOP_ALGORITHMS, requestURLs, verifyDpopProof } from './dpop/proof.js';
import { OAuthError, type OAuthErrorCode } from './errors.js';

export type TokenScheme = 'Bearer' | 'DPoP';

const REALM = 'realm="idgate"';

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A WWW-Authenticate challenge; the DPoP one names the algorithms a proof may use (RFC 9449 §7.1). */
export function challenge(scheme: TokenScheme, error?: OAuthErrorCode, description?: string): string {
  const params = [REALM];
  if (error) params.push(`error=${quoted(error)}`);
  if (description) params.push(`error_description=${quoted(description)}`);
  if (scheme === 'DPoP') params.push(`algs=${quoted(DPOP_ALGORITHMS.join(' '))}`);
  return `${scheme} ${params.join(', ')}`;
}

/** 401 invalid_token with the scheme's challenge. */
export function invalidToken(scheme: TokenScheme, description: string): OAuthError {
  return new OAuthError('invalid_token', description, { wwwAuthenticate: challenge(scheme, 'invalid_token', description) });
}

/** A proof failure as a resource answers it: 401 with the DPoP challenge, keeping DPoP-Nonce. */
function asResourceError(error: unknown): unknown {
  if (!(error instanceof OAuthError) || (error.code !== 'invalid_dpop_proof' && error.code !== 'use_dpop_nonce')) return error;
  return new OAuthError(error.code, error.description, {
    status: 401,
    wwwAuthenticate: challenge('DPoP', error.code, error.description),
    ...(error.headers && { headers: error.headers }),
    cause: error,
  });
}

async function checkDpopBinding(ctx: IssuerContext, koaCtx: Context, token: string, jkt: string): Promise<void> {
  let proof;
  try {
    proof = await verifyDpopProof(ctx, koaCtx, { htu: requestURLs(ctx, koaCtx), accessToken: token });
  } catch (error) {
    throw asResourceError(error);
  }
  if (!proof) throw asResourceError(new OAuthError('invalid_dpop_proof', 'a DPoP proof is required with a DPoP-bound access token'));
  if (proof.jkt !== jkt) throw invalidToken('DPoP', 'the DPoP proof is signed by another key than the one the access token is bound to');
}

/** Throws unless the request shows what the verified token `cnf` is bound to, presented with `scheme`. */
export async function checkTokenBinding(
  ctx: IssuerContext,
  koaCtx: Context,
  presented: { token: string; scheme: TokenScheme },
  cnf: Confirmation | undefined,
): Promise<void> {
  if (cnf?.jkt !== undefined) {
    if (presented.scheme !== 'DPoP') throw invalidToken('DPoP', 'the access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof');
    await checkDpopBinding(ctx, koaCtx, presented.token, cnf.jkt);
  } else if (presented.scheme === 'DPoP') {
    throw invalidToken('DPoP', 'the access token is not DPoP-bound: present it with the Bearer scheme');
  }
  const x5t = cnf?.['x5t#S256'];
  if (x5t !== undefined && requestCertificate(ctx, koaCtx)?.thumbprint !== x5t) {
    throw invalidToken(presented.scheme, 'the access token is bound to a client certificate this request did not present');
  }
}
