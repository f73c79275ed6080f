/**
 * The last step of /auth: store the AuthRequest (lifetime expiry.authRequests) with a fresh CSRF
 * token. Its ID is unguessable; it travels as `req` in the login pages and as the upstream `state`.
 */
import type { IssuerContext } from '../context.js';
import type { AuthRequest } from '../../storage/storage.js';
import { randomToken } from './random.js';
import type { AuthorizeState } from './state.js';

export async function createAuthRequest(state: AuthorizeState, issuer: IssuerContext): Promise<AuthRequest> {
  const now = issuer.now();
  const request: AuthRequest = {
    id: randomToken(24),
    clientId: state.client!.id,
    redirectURI: state.redirectURI!,
    responseType: 'code',
    scopes: state.scopes,
    state: state.params.state,
    nonce: state.params.nonce,
    codeChallenge: state.codeChallenge,
    codeChallengeMethod: state.codeChallengeMethod,
    prompt: state.prompt,
    maxAge: state.maxAge,
    loginHint: state.params.login_hint,
    connectorId: state.connectorId,
    loggedIn: false,
    csrfToken: randomToken(32),
    createdAt: now,
    expiresAt: now + issuer.config.expiry.authRequests,
  };
  await issuer.storage.authRequests.create(request);
  return request;
}
