/**
 * The steps every login shares, whichever connector ran: find the auth request a page or callback
 * names, record the identity on it, and finally exchange it — atomically, exactly once — for an
 * authorization code sent to the client's redirect URI.
 */
import type { Identity, Scopes } from '../connector.js';
import type { IssuerContext } from '../oidc/context.js';
import { OOB_REDIRECT_URI } from '../oidc/authorize/check_redirect_uri.js';
import { randomToken } from '../oidc/authorize/random.js';
import { authorizationErrorURL, authorizationResponseURL } from '../oidc/authorize/redirect.js';
import { OAuthError } from '../oidc/errors.js';
import { hashToken } from '../storage/secrets.js';
import { StorageError, type AuthCode, type AuthRequest, type StoredIdentity } from '../storage/storage.js';
import { LoginError, requestNotFound } from './errors.js';

export async function loadAuthRequest(issuer: IssuerContext, id: string | undefined): Promise<AuthRequest> {
  const authRequest = id ? await issuer.storage.authRequests.get(id) : undefined;
  if (!authRequest) throw requestNotFound();
  return authRequest;
}

export function connectorScopes(authRequest: AuthRequest): Scopes {
  return { offlineAccess: authRequest.scopes.includes('offline_access'), groups: authRequest.scopes.includes('groups') };
}

export function encodeConnectorData(data: Uint8Array | undefined): string | undefined {
  return data === undefined ? undefined : Buffer.from(data).toString('base64');
}

export function decodeConnectorData(data: string | undefined): Uint8Array | undefined {
  return data === undefined ? undefined : new Uint8Array(Buffer.from(data, 'base64'));
}

export function storedIdentity(identity: Identity): StoredIdentity {
  const { connectorData: _omitted, ...claims } = identity;
  return structuredClone(claims);
}

function alreadyCompleted(): LoginError {
  return new LoginError(
    'already_completed', 400, 'This sign-in was already completed',
    'This sign-in request was already used or has expired. Go back to the application and start again.',
  );
}

/** Where the browser goes next: a redirect, or (out-of-band redirect URI) a page showing the code. */
export type NextStep = { location: string } | { oobCode: string };

/**
 * Binds the request to the connector about to run, forgetting any earlier login on it, so a code can
 * never pair one connector with another connector's identity.
 */
export async function startConnectorLogin(issuer: IssuerContext, authRequestId: string, connectorId: string, connectorData?: Uint8Array): Promise<void> {
  await issuer.storage.authRequests.update(authRequestId, (current) => ({
    ...current,
    connectorId,
    connectorData: encodeConnectorData(connectorData),
    loggedIn: false,
    identity: undefined,
    authTime: undefined,
  }));
}

/** Writes the logged-in identity; the next step is the approval page or, when skipped, the code. */
export async function completeLogin(issuer: IssuerContext, authRequestId: string, connectorId: string, identity: Identity): Promise<NextStep> {
  let updated: AuthRequest;
  try {
    updated = await issuer.storage.authRequests.update(authRequestId, (current) => ({
      ...current,
      connectorId,
      loggedIn: true,
      identity: storedIdentity(identity),
      connectorData: encodeConnectorData(identity.connectorData),
      authTime: Math.floor(issuer.now() / 1000),
    }));
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not_found') throw alreadyCompleted();
    throw error;
  }
  const consent = updated.prompt?.includes('consent') ?? false;
  if (issuer.config.oauth2.skipApprovalScreen && !consent) return issueCode(issuer, updated.id);
  return { location: `${issuer.basePath}/approval?req=${encodeURIComponent(updated.id)}` };
}

/**
 * Takes the auth request (of two concurrent submits only one gets it), stores the code's hash and
 * returns the redirect to the client. The code itself exists only in that URL (or the OOB page).
 */
export async function issueCode(issuer: IssuerContext, authRequestId: string): Promise<NextStep> {
  const authRequest = await issuer.storage.authRequests.take(authRequestId);
  if (!authRequest) throw alreadyCompleted();
  if (!authRequest.loggedIn || !authRequest.identity || !authRequest.connectorId || authRequest.authTime === undefined) {
    throw new LoginError('not_logged_in', 400, 'Not signed in', 'This sign-in request has no signed-in user. Start again from the application.');
  }
  const code = randomToken(32);
  const now = issuer.now();
  const record: AuthCode = {
    id: hashToken(code),
    clientId: authRequest.clientId,
    redirectURI: authRequest.redirectURI,
    scopes: authRequest.scopes,
    nonce: authRequest.nonce,
    codeChallenge: authRequest.codeChallenge,
    codeChallengeMethod: authRequest.codeChallengeMethod,
    connectorId: authRequest.connectorId,
    identity: authRequest.identity,
    connectorData: authRequest.connectorData,
    authTime: authRequest.authTime,
    sessionId: randomToken(16),
    createdAt: now,
    expiresAt: now + issuer.config.expiry.authCodes,
  };
  await issuer.storage.authCodes.create(record);
  if (authRequest.redirectURI === OOB_REDIRECT_URI) return { oobCode: code };
  return { location: authorizationResponseURL(authRequest.redirectURI, issuer.issuer, { code, state: authRequest.state }) };
}

/** The person said no (approval page or upstream): end the request and tell the client. */
export async function denyRequest(issuer: IssuerContext, authRequestId: string, description: string): Promise<string> {
  const authRequest = await issuer.storage.authRequests.take(authRequestId);
  if (!authRequest) throw alreadyCompleted();
  if (authRequest.redirectURI === OOB_REDIRECT_URI) {
    throw new LoginError('access_denied', 403, 'Access denied', `The sign-in was not completed: ${description}.`);
  }
  const error = new OAuthError('access_denied', description);
  return authorizationErrorURL(authRequest.redirectURI, issuer.issuer, error, authRequest.state);
}
