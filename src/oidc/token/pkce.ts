/**
 * PKCE at the token endpoint (RFC 7636 §4.6): the verifier must hash (S256) or equal (plain, only when
 * the code says plain) the challenge stored with the code. A challenge without a verifier, a verifier
 * without a challenge, or a malformed verifier is invalid_grant.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../errors.js';

/** What /auth accepts and discovery advertises: S256, and plain only when oauth2.pkce.allowPlain is set. */
export function codeChallengeMethods(pkce: { allowPlain: boolean }): Array<'S256' | 'plain'> {
  return pkce.allowPlain ? ['S256', 'plain'] : ['S256'];
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function checkPkce(
  code: { codeChallenge?: string; codeChallengeMethod?: 'S256' | 'plain' },
  verifier: string | undefined,
): void {
  if (!code.codeChallenge) {
    if (verifier !== undefined) throw new OAuthError('invalid_grant', 'code_verifier given but the authorization request had no code_challenge');
    return;
  }
  if (verifier === undefined) throw new OAuthError('invalid_grant', 'code_verifier is required (the authorization request used PKCE)');
  if (!VERIFIER.test(verifier)) throw new OAuthError('invalid_grant', 'code_verifier is malformed (RFC 7636 §4.1)');
  const method = code.codeChallengeMethod ?? 'plain';
  const derived = method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
  if (!sameString(derived, code.codeChallenge)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
}
