/**
 * PKCE (RFC 7636). S256 is required for public clients, for a client with requirePKCE, and for every
 * client when oauth2.pkce.enforce is set; where it is required `plain` is refused. Elsewhere PKCE is
 * optional and a challenge without a method means `plain`, as the RFC says.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

export const checkPKCE: AuthorizeCheck = (state, issuer) => {
  const client = state.client!;
  const challenge = state.params.code_challenge;
  const method = state.params.code_challenge_method;
  const s256Required = client.public || client.requirePKCE === true || issuer.config.oauth2.pkce.enforce;

  if (challenge === undefined) {
    if (method !== undefined) throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge');
    if (s256Required) throw new OAuthError('invalid_request', 'this client must use PKCE: send code_challenge with code_challenge_method=S256');
    return;
  }
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    throw new OAuthError('invalid_request', `code_challenge_method "${method}" is not supported (use S256)`);
  }
  const resolved = method ?? 'plain';
  if (resolved === 'plain' && s256Required) {
    throw new OAuthError('invalid_request', 'code_challenge_method must be S256 for this client (plain is not allowed)');
  }
  if (!CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]');
  state.codeChallenge = challenge;
  state.codeChallengeMethod = resolved;
};
