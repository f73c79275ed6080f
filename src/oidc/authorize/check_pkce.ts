/**
 * PKCE (RFC 7636) for response types that return a code. S256 is required for public clients, for a
 * client with requirePKCE, and for every client when oauth2.pkce.enforce is set; elsewhere PKCE is
 * optional. `plain` (also what a challenge without a method means, per the RFC) is refused unless the
 * operator set oauth2.pkce.allowPlain, and always where S256 is required (RFC 9700 §2.1.1). Without a
 * code there is nothing to bind a challenge to, so one is refused.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

export const checkPKCE: AuthorizeCheck = (state, issuer) => {
  const client = state.client!;
  const challenge = state.params.code_challenge;
  const method = state.params.code_challenge_method;
  if (!state.responseType!.code) {
    if (challenge !== undefined || method !== undefined) {
      throw new OAuthError('invalid_request', `code_challenge has no use with response_type "${state.responseType!.value}" (no code is returned)`);
    }
    return;
  }
  const { enforce, allowPlain } = issuer.config.oauth2.pkce;
  const s256Required = client.public || client.requirePKCE === true || enforce;

  if (challenge === undefined) {
    if (method !== undefined) throw new OAuthError('invalid_request', 'code_challenge_method without code_challenge');
    if (s256Required) throw new OAuthError('invalid_request', 'this client must use PKCE: send code_challenge with code_challenge_method=S256');
    return;
  }
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    throw new OAuthError('invalid_request', `code_challenge_method "${method}" is not supported (use S256)`);
  }
  const resolved = method ?? 'plain';
  if (resolved === 'plain' && (s256Required || !allowPlain)) {
    const named = method === undefined ? 'a code_challenge without code_challenge_method means "plain", which' : 'code_challenge_method "plain"';
    throw new OAuthError('invalid_request', `${named} is not accepted${s256Required ? ' for this client' : ''}: use code_challenge_method=S256`);
  }
  if (!CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 to 128 characters of [A-Za-z0-9._~-]');
  state.codeChallenge = challenge;
  state.codeChallengeMethod = resolved;
};
