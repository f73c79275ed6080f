/**
 * The last step of /auth: store the AuthRequest (lifetime expiry.authRequests) with a fresh CSRF
 * token, bound to the browser that sent it (the hash of its binding cookie). Its ID is unguessable; it
 * travels as `req` in the login pages and as the upstream `state`.
 */
import type { IssuerContext } from '../context.js';
import type { AuthRequest } from '../../storage/storage.js';
import { randomToken } from './random.js';
import type { AuthorizeState } from './state.js';

export async function createAuthRequest(state: AuthorizeState, issuer: IssuerContext, browserHash: string): Promise<AuthRequest> {
  const now = issuer.now();
  const request: AuthRequest = {
    id: randomToken(24),
    clientId: state.client!.id,
    redirectURI: state.redirectURI!,
    responseType: state.responseType!.value,
    responseMode: state.responseMode!,
    scopes: state.scopes,
    ...(state.resources.length > 0 ? { resources: state.resources } : {}),
    state: state.params.state,
    nonce: state.params.nonce,
    codeChallenge: state.codeChallenge,
    codeChallengeMethod: state.codeChallengeMethod,
    prompt: state.prompt,
    maxAge: state.maxAge,
    ...(state.acrValues.length > 0 ? { acrValues: state.acrValues } : {}),
    loginHint: state.params.login_hint,
    connectorId: state.connectorId,
    // prompt=select_account: the session the chooser offers, the only one "Continue as" may take.
    ...(state.sessionUse === 'offer' && state.session ? { sessionId: state.session.id } : {}),
    loggedIn: false,
    csrfToken: randomToken(32),
    browserHash,
    createdAt: now,
    expiresAt: now + issuer.config.expiry.authRequests,
  };
  await issuer.storage.authRequests.create(request);
  return request;
}
