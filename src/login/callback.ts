/**
 * Upstream answers come back here. /callback/{connector} takes an OAuth2/OIDC redirect (GET query)
 * or form_post (POST form), whose `state` is the auth request ID; the same route takes a SAML
 * HTTP-POST (SAMLResponse + RelayState = the auth request ID). The request must have been started
 * with this connector. An upstream "access denied" is sent to the client as access_denied.
 */
import type { Context } from 'koa';
import { ConnectorError, type Identity } from '../connector.js';
import { readForm, readQuery } from '../http/form.js';
import { subjectOf } from '../oidc/claims.js';
import type { AuthRequest } from '../storage/storage.js';
import { LoginError, toLoginError } from './errors.js';
import { completeLogin, connectorScopes, decodeConnectorData, denyRequest, loadAuthRequest } from './flow.js';
import { connectorFor, recordLogin, redirect, sendNextStep, type LoginDeps } from './handler.js';

export async function handleCallback(ctx: Context, deps: LoginDeps): Promise<void> {
  const params = ctx.method === 'POST' ? await readForm(ctx) : readQuery(ctx);
  const isSaml = params.SAMLResponse !== undefined;
  const authRequest = await loadAuthRequest(deps.issuer, isSaml ? params.RelayState : params.state);
  const connectorId = ctx.params.connector ?? authRequest.connectorId;
  if (connectorId !== authRequest.connectorId) {
    throw new LoginError('bad_request', 400, 'Unexpected sign-in response', 'This response came from a different sign-in method than the one this sign-in started with.');
  }
  const open = await connectorFor(deps, authRequest, connectorId);
  const base = { connectorId: open.id, clientId: authRequest.clientId };

  let identity: Identity;
  try {
    identity = await readIdentity(ctx, deps, authRequest, params);
  } catch (error) {
    const reason = error instanceof ConnectorError ? error.code : error instanceof LoginError ? error.code : 'internal';
    recordLogin(deps, { ...base, outcome: 'refused', reason });
    if (error instanceof ConnectorError && error.code === 'access_denied') {
      return redirect(ctx, await denyRequest(deps.issuer, authRequest.id, `the sign-in at ${open.name} was refused`));
    }
    throw toLoginError(error, open.name);
  }
  recordLogin(deps, { ...base, outcome: 'succeeded', user: identity.email ?? identity.username, subject: subjectOf(identity.userId, open.id) });
  sendNextStep(ctx, deps, await completeLogin(deps.issuer, authRequest.id, open.id, identity));
}

async function readIdentity(ctx: Context, deps: LoginDeps, authRequest: AuthRequest, params: Record<string, string>): Promise<Identity> {
  const connector = deps.issuer.connectors.get(authRequest.connectorId!)!.connector;
  const scopes = connectorScopes(authRequest);
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
