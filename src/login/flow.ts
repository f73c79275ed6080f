/**
 * The steps every login shares, whichever connector ran or when the browser's login session answered:
 * find the auth request a page or callback names, record the login on it, check the client's groups,
 * ask for consent unless it is remembered or skipped, and finally exchange the request — atomically,
 * exactly once — for the authorization response: a code and/or the tokens the response type asks for,
 * all of the login session, sent to the client's redirect URI in the request's response mode.
 */
import type { Connector, Identity, Scopes } from '../connector.js';
import { loginGrantType } from '../oidc/authorize/check_connector.js';
import type { IssuerContext } from '../oidc/context.js';
import { OOB_REDIRECT_URI } from '../oidc/authorize/check_redirect_uri.js';
import { parseResponseType } from '../oidc/authorize/check_response_type.js';
import { frontChannelTokens } from '../oidc/authorize/implicit.js';
import { checkClientRules } from '../oidc/client-claims.js';
import { randomToken } from '../oidc/authorize/random.js';
import { authorizationErrorResponse, authorizationResponse, type AuthorizationResponse } from '../oidc/authorize/response_mode.js';
import { subjectOf } from '../oidc/claims.js';
import { DEVICE_CODE_GRANT } from '../oidc/device/device-request.js';
import { OAuthError } from '../oidc/errors.js';
import { inAllowedGroups } from '../oidc/token/grant.js';
import { consentNeeded } from '../sessions/consent.js';
import { connectorMethods, neededConnectorScopes, sessionPolicy, usedBy, withMethods } from '../sessions/login-session.js';
import { hashToken } from '../storage/secrets.js';
import { NotFoundError, StorageError, type AuthCode, type AuthRequest, type Client, type LoginSession, type StoredIdentity } from '../storage/storage.js';
import { LoginError, requestNotFound } from './errors.js';
import { acrOf, mfaStepOf, secondFactorStep } from './mfa-gate.js';

export async function loadAuthRequest(issuer: IssuerContext, id: string | undefined): Promise<AuthRequest> {
  const authRequest = id ? await issuer.storage.authRequests.get(id) : undefined;
  if (!authRequest) throw requestNotFound();
  return authRequest;
}

/**
 * What a connector is asked for. A password connector is asked for everything: it answers without the
 * person's involvement, and the login session it starts then serves any later request of the browser.
 * Any other is asked for what this request needs (an upstream may show its own consent for more).
 */
export function connectorScopes(authRequest: AuthRequest, connector: Pick<Connector, 'kind'>, client: Pick<Client, 'allowedGroups'> | undefined): Scopes {
  if (connector.kind === 'password') return { offlineAccess: true, groups: true };
  return neededConnectorScopes(authRequest.scopes, client);
}

/** A login a device's user code started: its tokens go to the device, so it neither uses nor starts a login session. */
export function isDeviceLogin(issuer: Pick<IssuerContext, 'issuer'>, authRequest: Pick<AuthRequest, 'redirectURI'>): boolean {
  return loginGrantType(issuer, authRequest) === DEVICE_CODE_GRANT;
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
    sessionId: undefined,
    amr: undefined,
    acr: undefined,
    mfa: undefined,
    parkedLogin: undefined,
  }));
}

/** Who logged in and how, as the auth request (and the login session) keep it. */
export interface FinishedLogin {
  connectorId: string;
  identity: StoredIdentity;
  connectorData?: string;
  /** Epoch seconds of the authentication. */
  authTime: number;
  /** RFC 8176 methods it used so far. */
  amr: string[];
  /** The browser's login session it belongs to; none for a device's login. */
  sessionId?: string;
}

/** A login that just happened at `connectorId`. */
export function connectorLogin(issuer: IssuerContext, connectorId: string, identity: Identity): FinishedLogin {
  return {
    connectorId,
    identity: storedIdentity(identity),
    connectorData: encodeConnectorData(identity.connectorData),
    authTime: Math.floor(issuer.now() / 1000),
    amr: connectorMethods(issuer.connectors.get(connectorId)?.connector.kind ?? 'callback'),
  };
}

/** The login the browser's session holds, for a request it answers (check_login_session). */
export function sessionLogin(session: LoginSession): FinishedLogin {
  return {
    connectorId: session.connectorId, identity: session.identity, connectorData: session.connectorData, authTime: session.authTime, amr: session.amr, sessionId: session.id,
  };
}

/**
 * Writes the login on the request; the next step is the second factor when one is missing
 * (mfa-gate.ts), else the client's groups, consent and the code (continueAfterLogin).
 */
export async function completeLogin(issuer: IssuerContext, authRequestId: string, login: FinishedLogin): Promise<NextStep> {
  let updated: AuthRequest;
  try {
    updated = await issuer.storage.authRequests.update(authRequestId, (current) => ({
      ...current,
      connectorId: login.connectorId,
      loggedIn: true,
      identity: login.identity,
      connectorData: login.connectorData,
      authTime: login.authTime,
      amr: login.amr,
      acr: acrOf(login.amr),
      mfa: undefined,
      sessionId: login.sessionId,
      parkedLogin: undefined,
    }));
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not_found') throw alreadyCompleted();
    throw error;
  }
  return (await secondFactorStep(issuer, updated)) ?? continueAfterLogin(issuer, updated);
}

/**
 * Once the person has every factor the login needs: the client's allowedGroups (a page saying so;
 * with prompt=none, access_denied to the client), then consent unless skipped or remembered
 * (sessions/consent.ts; a device's login asks with prompt=consent), with prompt=none consent_required
 * instead of the page — then the code.
 */
export async function continueAfterLogin(issuer: IssuerContext, authRequest: AuthRequest): Promise<NextStep> {
  const identity = authRequest.identity!;
  const client = await clientOf(issuer, authRequest);
  const none = authRequest.prompt?.includes('none') ?? false;
  if (!inAllowedGroups(client, identity)) {
    if (none) return endWithError(issuer, authRequest.id, new OAuthError('access_denied', 'the user is not in a group this client allows'));
    await issuer.storage.authRequests.delete(authRequest.id);
    throw new LoginError('not_in_allowed_groups', 403, 'Access not allowed', 'You are not in a group allowed to use this application.');
  }
  const subject = subjectOf(identity.userId, authRequest.connectorId!);
  if (await consentNeeded(issuer, { client, subject, scopes: authRequest.scopes, prompt: authRequest.prompt })) {
    if (none) return endWithError(issuer, authRequest.id, new OAuthError('consent_required', `the user has not consented to ${client.name || client.id} having these scopes`));
    return { location: `${issuer.basePath}/approval?req=${encodeURIComponent(authRequest.id)}` };
  }
  return issueAuthorization(issuer, authRequest.id);
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
  // The last lock: a login still short of its second factor (an approval posted past /mfa) gets no code.
  if (await mfaStepOf(issuer, authRequest)) {
    throw new LoginError('mfa_required', 403, 'A second factor is needed', 'This sign-in was not completed with its second factor. Go back to the application and start again.');
  }
  const refused = clientRulesRefusal(issuer, authRequest, identity, connectorId);
  if (refused) return refused;
  // Stored requests hold a canonical value; anything else gets the code flow, which returns the least.
  const type = parseResponseType(authRequest.responseType) ?? { code: true, idToken: false, token: false, value: 'code' };
  if (authRequest.sessionId !== undefined) await recordClientInSession(issuer, { ...authRequest, sessionId: authRequest.sessionId });
  // A login of the browser's session: its tokens carry the session's id; any other is a session of its own.
  const sessionId = authRequest.sessionId ?? randomToken(16);
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

/**
 * The client is among those the session signed in to (told at logout), and the login's methods are the
 * session's; a session ended meanwhile ends the login.
 */
async function recordClientInSession(issuer: IssuerContext, authRequest: AuthRequest & { sessionId: string }): Promise<void> {
  try {
    await issuer.storage.loginSessions.update(authRequest.sessionId, (session) => ({
      ...usedBy(session, authRequest.clientId, issuer.now(), sessionPolicy(issuer.config)),
      // A second factor this login passed counts for the session's later sign-ins too.
      amr: withMethods(session.amr, authRequest.amr ?? []),
    }));
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new LoginError('session_ended', 400, 'You were signed out', 'Your sign-in session ended while this sign-in was under way. Go back to the application and sign in again.');
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
    ...(authRequest.sessionId !== undefined ? { loginSession: true } : {}),
    ...(authRequest.amr ? { amr: authRequest.amr } : {}),
    ...(authRequest.acr !== undefined ? { acr: authRequest.acr } : {}),
    ...(authRequest.resources ? { resources: authRequest.resources } : {}),
    createdAt: now,
    expiresAt: now + issuer.config.expiry.authCodes,
  };
  await issuer.storage.authCodes.create(record);
  return code;
}

/** The person said no (approval page or upstream): end the request and tell the client. */
export async function denyRequest(issuer: IssuerContext, authRequestId: string, description: string): Promise<AuthorizationResponse> {
  return endWithError(issuer, authRequestId, new OAuthError('access_denied', description));
}

/** Ends the request with `error` at the client (an out-of-band client has no redirect: a page then). */
async function endWithError(issuer: IssuerContext, authRequestId: string, error: OAuthError): Promise<AuthorizationResponse> {
  const authRequest = await issuer.storage.authRequests.take(authRequestId);
  if (!authRequest) throw alreadyCompleted();
  if (authRequest.redirectURI === OOB_REDIRECT_URI) {
    throw new LoginError('access_denied', 403, 'Access denied', `The sign-in was not completed: ${error.description}.`);
  }
  return authorizationErrorResponse(authRequest.redirectURI, authRequest.responseMode, issuer.issuer, error, authRequest.state);
}
