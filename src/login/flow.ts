/**
 * The steps every login shares, whichever connector ran: find the auth request a page or callback
 * names, record the identity on it, and finally exchange it — atomically, exactly once — for the
 * authorization response: a code and/or the tokens the response type asks for, sent to the client's
 * redirect URI in the request's response mode.
 */
import type { Identity, Scopes } from '../connector.js';
import type { IssuerContext } from '../oidc/context.js';
import { OOB_REDIRECT_URI } from '../oidc/authorize/check_redirect_uri.js';
import { parseResponseType } from '../oidc/authorize/check_response_type.js';
import { frontChannelTokens } from '../oidc/authorize/implicit.js';
import { checkClientRules } from '../oidc/client-claims.js';
import { randomToken } from '../oidc/authorize/random.js';
import { authorizationErrorResponse, authorizationResponse, type AuthorizationResponse } from '../oidc/authorize/response_mode.js';
import { OAuthError } from '../oidc/errors.js';
import { hashToken } from '../storage/secrets.js';
import { StorageError, type AuthCode, type AuthRequest, type Client, type StoredIdentity } from '../storage/storage.js';
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

/** What is kept of an identity: never its connector data nor the upstream's raw claims. */
export function storedIdentity(identity: Identity): StoredIdentity {
  const { connectorData: _omitted, claims: _raw, ...kept } = identity;
  return structuredClone(kept);
}

function alreadyCompleted(): LoginError {
  return new LoginError(
    'already_completed', 400, 'This sign-in was already completed',
    'This sign-in request was already used or has expired. Go back to the application and start again.',
  );
}

/** Where the browser goes next: a redirect, a form_post page, or (out-of-band redirect URI) a page showing the code. */
export type NextStep = AuthorizationResponse | { oobCode: string };

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
    parkedLogin: undefined,
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
      parkedLogin: undefined,
    }));
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not_found') throw alreadyCompleted();
    throw error;
  }
  const consent = updated.prompt?.includes('consent') ?? false;
  if (issuer.config.oauth2.skipApprovalScreen && !consent) return issueAuthorization(issuer, updated.id);
  return { location: `${issuer.basePath}/approval?req=${encodeURIComponent(updated.id)}` };
}

/**
 * Takes the auth request (of two concurrent submits only one gets it) and answers the client: a code
 * (only its hash is stored; the code itself exists only in the response or the OOB page) and/or the
 * tokens the response type asks for, all of one session.
 */
export async function issueAuthorization(issuer: IssuerContext, authRequestId: string): Promise<NextStep> {
  const authRequest = await issuer.storage.authRequests.take(authRequestId);
  if (!authRequest) throw alreadyCompleted();
  const { identity, connectorId, authTime } = authRequest;
  if (!authRequest.loggedIn || !identity || !connectorId || authTime === undefined) {
    throw new LoginError('not_logged_in', 400, 'Not signed in', 'This sign-in request has no signed-in user. Start again from the application.');
  }
  const refused = clientRulesRefusal(issuer, authRequest, identity, connectorId);
  if (refused) return refused;
  // Stored requests hold a canonical value; anything else gets the code flow, which returns the least.
  const type = parseResponseType(authRequest.responseType) ?? { code: true, idToken: false, token: false, value: 'code' };
  const sessionId = randomToken(16);
  const code = type.code ? await storeCode(issuer, authRequest, sessionId) : undefined;
  if (authRequest.redirectURI === OOB_REDIRECT_URI && code) return { oobCode: code };
  const tokens = type.idToken || type.token
    ? await frontChannelTokens(issuer, await clientOf(issuer, authRequest), { ...authRequest, identity, connectorId, authTime }, type, { sessionId, code })
    : {};
  return authorizationResponse(authRequest.redirectURI, authRequest.responseMode, issuer.issuer, { code, ...tokens, state: authRequest.state });
}

/**
 * The client's claim rules (docs/claims.md), before a code or token leaves: one that refuses this
 * person ends the request with access_denied to the client (RFC 6749 §4.1.2.1), the rule's message as
 * its description; the token endpoint checks them again for every grant.
 */
function clientRulesRefusal(issuer: IssuerContext, authRequest: AuthRequest, identity: StoredIdentity, connectorId: string): NextStep | undefined {
  try {
    checkClientRules(issuer, { clientId: authRequest.clientId, identity, connectorId, scopes: authRequest.scopes });
    return undefined;
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    issuer.audit.write({
      event: 'authorization_refused', outcome: 'refused', reason: error.code, clientId: authRequest.clientId,
      description: error.description, connectorId, userId: identity.userId,
    });
    if (authRequest.redirectURI === OOB_REDIRECT_URI) throw new LoginError('access_denied', 403, 'Access denied', error.description);
    return authorizationErrorResponse(authRequest.redirectURI, authRequest.responseMode, issuer.issuer, error, authRequest.state);
  }
}

/** The request's client, which tokens are issued to; gone meanwhile (deleted), the login cannot finish. */
async function clientOf(issuer: IssuerContext, authRequest: AuthRequest): Promise<Client> {
  const client = await issuer.storage.clients.get(authRequest.clientId);
  if (!client) throw new LoginError('bad_request', 400, 'Unknown application', 'The application that started this sign-in no longer exists.');
  return client;
}

/** Stores the code's hash with everything the token request will need; returns the code. */
async function storeCode(issuer: IssuerContext, authRequest: AuthRequest, sessionId: string): Promise<string> {
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
    connectorId: authRequest.connectorId!,
    identity: authRequest.identity!,
    connectorData: authRequest.connectorData,
    authTime: authRequest.authTime!,
    sessionId,
    ...(authRequest.resources ? { resources: authRequest.resources } : {}),
    createdAt: now,
    expiresAt: now + issuer.config.expiry.authCodes,
  };
  await issuer.storage.authCodes.create(record);
  return code;
}

/** The person said no (approval page or upstream): end the request and tell the client. */
export async function denyRequest(issuer: IssuerContext, authRequestId: string, description: string): Promise<AuthorizationResponse> {
  const authRequest = await issuer.storage.authRequests.take(authRequestId);
  if (!authRequest) throw alreadyCompleted();
  if (authRequest.redirectURI === OOB_REDIRECT_URI) {
    throw new LoginError('access_denied', 403, 'Access denied', `The sign-in was not completed: ${description}.`);
  }
  const error = new OAuthError('access_denied', description);
  return authorizationErrorResponse(authRequest.redirectURI, authRequest.responseMode, issuer.issuer, error, authRequest.state);
}
