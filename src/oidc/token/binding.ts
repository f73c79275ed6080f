/**
 * Sender-constrained tokens at the token endpoint: what a token request binds its access token to
 * (RFC 7800 `cnf`). A DPoP proof (RFC 9449) binds it to the proof's key (`jkt`) for every grant; a
 * client with tlsClientCertificateBoundAccessTokens has it bound to the certificate it used (RFC 8705
 * §3, `x5t#S256`). A client that requires a binding (dpopBoundAccessTokens, or the certificate flag)
 * is refused without one. A public client's refresh-token family keeps the binding of its first
 * tokens, and every refresh must show the same key and certificate again (RFC 9449 §5, RFC 8705 §4).
 */
import type { Context } from 'koa';
import type { Client, RefreshToken } from '../../storage/storage.js';
import type { Confirmation } from '../claims.js';
import { requestCertificate } from '../client-certificate.js';
import type { IssuerContext } from '../context.js';
import { requestURLs, verifyDpopProof } from '../dpop/proof.js';
import { OAuthError } from '../errors.js';

/** The binding of this token request's access token; undefined for a bearer token. */
export async function requestBinding(ctx: IssuerContext, koaCtx: Context, client: Client): Promise<Confirmation | undefined> {
  const proof = await verifyDpopProof(ctx, koaCtx, { htu: requestURLs(ctx, koaCtx) });
  if (!proof && client.dpopBoundAccessTokens) {
    throw new OAuthError('invalid_dpop_proof', `client "${client.id}" gets DPoP-bound tokens only (dpopBoundAccessTokens): send a DPoP proof`);
  }
  let x5t: string | undefined;
  if (client.tlsClientCertificateBoundAccessTokens) {
    x5t = requestCertificate(ctx, koaCtx)?.thumbprint;
    if (x5t === undefined) {
      throw new OAuthError('invalid_request', `client "${client.id}" gets certificate-bound tokens only (tlsClientCertificateBoundAccessTokens): send the request over mutual TLS`);
    }
  }
  if (!proof && x5t === undefined) return undefined;
  return { ...(proof && { jkt: proof.jkt }), ...(x5t !== undefined && { 'x5t#S256': x5t }) };
}

/** The bindings of `cnf` by the names the filter's policies use (request.auth.binding), for the audit. */
export function bindingNames(cnf: Confirmation): Array<'dpop' | 'mtls'> {
  return [...(cnf.jkt !== undefined ? ['dpop' as const] : []), ...(cnf['x5t#S256'] !== undefined ? ['mtls' as const] : [])];
}

/** What a new refresh-token family keeps: the binding, for a public client only (a confidential one authenticates each refresh). */
export function familyBinding(client: Client, cnf: Confirmation | undefined): Pick<RefreshToken, 'cnf'> {
  return client.public && cnf ? { cnf } : {};
}

/** A bound family is refreshed only with the same DPoP key and certificate it was bound to. */
export function checkFamilyBinding(family: Pick<RefreshToken, 'cnf'>, cnf: Confirmation | undefined): void {
  const bound = family.cnf;
  if (bound?.jkt !== undefined && cnf?.jkt !== bound.jkt) {
    throw new OAuthError('invalid_grant', cnf?.jkt === undefined
      ? 'the refresh token is bound to a DPoP key: send a DPoP proof signed with it'
      : 'the refresh token is bound to another DPoP key than the one that signed this proof');
  }
  if (bound?.['x5t#S256'] !== undefined && cnf?.['x5t#S256'] !== bound['x5t#S256']) {
    throw new OAuthError('invalid_grant', 'the refresh token is bound to another client certificate than this request\'s');
  }
}
