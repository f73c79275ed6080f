/**
 * Upstream answers come back here. /callback/{connector} takes an OAuth2/OIDC redirect (GET query)
 * or form_post (POST form), whose `state` is the auth request ID; the same route takes a SAML
 * HTTP-POST (SAMLResponse + RelayState = the auth request ID). /callback without a connector (Dex's
 * shared redirectURI) takes the connector from the auth request. The request must have been started
 * with this connector. An upstream "access denied" is sent to the client as access_denied.
 *
 * A GET must come from the browser that started the login (its binding cookie travels on top-level
 * GETs). A POST from the upstream's site carries no SameSite=Lax cookie, so its outcome is parked on
 * the auth request under a one-time token and the browser is sent (303) to
 * /callback/{connector}/finish, a GET that is checked like any other step before the login counts.
 * Whoever posts someone else's response thus gets nothing, and cannot slip an identity into another
 * browser's login either: only the token from the POST's own answer collects what it parked.
 */
import type { Context } from 'koa';
import { ConnectorError, type Connector, type Identity } from '../connector.js';
import { readForm, readQuery } from '../http/form.js';
import { subjectOf } from '../oidc/claims.js';
import type { OpenConnector } from '../oidc/context.js';
import { randomToken } from '../oidc/authorize/random.js';
import { hashToken } from '../storage/secrets.js';
import { NotFoundError, type AuthRequest } from '../storage/storage.js';
import { assertSameBrowser, loadOwnAuthRequest } from './browser-binding.js';
import { csrfTokenMatches } from './csrf.js';
import { LoginError, requestNotFound, toLoginError } from './errors.js';
import {
  connectorScopes, decodeConnectorData, denyRequest, encodeConnectorData, loadAuthRequest, storedIdentity,
} from './flow.js';
import { connectorFor, recordLogin, redirect, ruleRefusal, sendNextStep, type LoginDeps } from './handler.js';
import { finishConnectorLogin } from './session-login.js';

/** What an upstream answer established: who logged in, or that the upstream refused. */
type Outcome = { identity: Identity } | { denied: string };

export async function handleCallback(ctx: Context, deps: LoginDeps): Promise<void> {
  const isPost = ctx.method === 'POST';
  const params = isPost ? await readForm(ctx) : readQuery(ctx);
  const isSaml = params.SAMLResponse !== undefined;
  const authRequest = await loadAuthRequest(deps.issuer, isSaml ? params.RelayState : params.state);
  if (!isPost) assertSameBrowser(ctx, authRequest);
  const connectorId = ctx.params.connector ?? authRequest.connectorId;
  if (connectorId !== authRequest.connectorId) {
    throw new LoginError('bad_request', 400, 'Unexpected sign-in response', 'This response came from a different sign-in method than the one this sign-in started with.');
  }
  const open = await connectorFor(deps, authRequest, connectorId);
  const outcome = await readOutcome(ctx, deps, authRequest, open, params);
  if (isPost) return parkOutcome(ctx, deps, authRequest, open, outcome);
  return applyOutcome(ctx, deps, authRequest, open, outcome);
}

/** GET /callback/{connector}/finish?req=…&finish=…: collects what a POSTed answer parked. */
export async function handleCallbackFinish(ctx: Context, deps: LoginDeps): Promise<void> {
  const query = readQuery(ctx);
  const authRequest = await loadOwnAuthRequest(ctx, deps.issuer, query.req);
  const parked = authRequest.parkedLogin;
  if (!parked || parked.connectorId !== ctx.params.connector || !csrfTokenMatches(parked.finishHash, query.finish && hashToken(query.finish))) {
    throw new LoginError('bad_request', 400, 'Unexpected sign-in response', 'This sign-in response was already used or belongs to another sign-in. Go back to the application and start again.');
  }
  const open = await connectorFor(deps, authRequest, parked.connectorId);
  const outcome: Outcome = parked.identity
    ? { identity: { ...parked.identity, ...(parked.connectorData ? { connectorData: decodeConnectorData(parked.connectorData) } : {}) } }
    : { denied: parked.denied ?? `the sign-in at ${open.name} was refused` };
  return applyOutcome(ctx, deps, authRequest, open, outcome);
}

/** The connector's reading of the answer; a refusal other than access_denied is shown as a page. */
async function readOutcome(ctx: Context, deps: LoginDeps, authRequest: AuthRequest, open: OpenConnector, params: Record<string, string>): Promise<Outcome> {
  try {
    return { identity: await readIdentity(ctx, deps, authRequest, open.connector, params) };
  } catch (error) {
    const reason = error instanceof ConnectorError ? error.code : error instanceof LoginError ? error.code : 'internal';
    recordLogin(deps, { connectorId: open.id, clientId: authRequest.clientId, outcome: 'refused', reason, ...ruleRefusal(error) });
    if (error instanceof ConnectorError && error.code === 'access_denied') return { denied: `the sign-in at ${open.name} was refused` };
    throw toLoginError(error, open.name);
  }
}

async function applyOutcome(ctx: Context, deps: LoginDeps, authRequest: AuthRequest, open: OpenConnector, outcome: Outcome): Promise<void> {
  if ('denied' in outcome) return sendNextStep(ctx, deps, await denyRequest(deps.issuer, authRequest.id, outcome.denied));
  const { identity } = outcome;
  recordLogin(deps, {
    connectorId: open.id, clientId: authRequest.clientId, outcome: 'succeeded',
    user: identity.email ?? identity.username, subject: subjectOf(identity.userId, open.id),
  });
  sendNextStep(ctx, deps, await finishConnectorLogin(ctx, deps, authRequest, open, identity));
}

async function parkOutcome(ctx: Context, deps: LoginDeps, authRequest: AuthRequest, open: OpenConnector, outcome: Outcome): Promise<void> {
  const finish = randomToken(32);
  const parked = 'denied' in outcome
    ? { denied: outcome.denied }
    : { identity: storedIdentity(outcome.identity), connectorData: encodeConnectorData(outcome.identity.connectorData) };
  try {
    await deps.issuer.storage.authRequests.update(authRequest.id, (current) => ({
      ...current,
      parkedLogin: { finishHash: hashToken(finish), connectorId: open.id, ...parked },
    }));
  } catch (error) {
    if (error instanceof NotFoundError) throw requestNotFound();
    throw error;
  }
  const query = `req=${encodeURIComponent(authRequest.id)}&finish=${encodeURIComponent(finish)}`;
  redirect(ctx, `${deps.issuer.basePath}/callback/${encodeURIComponent(open.id)}/finish?${query}`, 303);
}

/** `connector` is the one connectorFor checked, even if a re-list replaced or removed it meanwhile. */
async function readIdentity(ctx: Context, deps: LoginDeps, authRequest: AuthRequest, connector: Connector, params: Record<string, string>): Promise<Identity> {
  const scopes = connectorScopes(authRequest, connector, await deps.issuer.storage.clients.get(authRequest.clientId));
  if (params.SAMLResponse !== undefined) {
    if (connector.kind !== 'saml') throw wrongKind();
    return connector.handlePost(scopes, params.SAMLResponse, authRequest.id);
  }
  if (connector.kind !== 'callback') throw wrongKind();
  const url = new URL(ctx.originalUrl, deps.issuer.issuer);
  return connector.handleCallback(scopes, decodeConnectorData(authRequest.connectorData), {
    url,
    body: ctx.method === 'POST' ? params : undefined,
  });
}

function wrongKind(): LoginError {
  return new LoginError('bad_request', 400, 'Unexpected sign-in response', 'This sign-in method does not accept this kind of response.');
}
