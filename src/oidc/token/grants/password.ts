/**
 * The resource owner password credentials grant (RFC 6749 §4.3) as Dex serves it: on only with
 * oauth2.passwordConnector, whose connector checks the username and password. Scopes are checked as
 * for the code flow (openid required, as in Dex), and the tokens are what a login's grant issues: ID
 * token, access token, and a refresh token with offline_access where the connector can refresh.
 *
 * The password form's throttle counts these attempts too, under the same per-user key, so the grant is
 * no way around it. The per-IP key is added only for public clients: a confidential client calls from
 * its own server, whose one address would lock every user of that client out at once.
 */
import { ConnectorError, type PasswordConnector } from '../../../connector.js';
import { encodeConnectorData, storedIdentity } from '../../../login/flow.js';
import { createLoginThrottle, describeWait } from '../../../login/throttle.js';
import { loginConnectorOf, requiresSecondFactor } from '../../../sessions/mfa/policy.js';
import type { Client } from '../../../storage/storage.js';
import { randomToken } from '../../authorize/random.js';
import { connectorServesGrant, type IssuerContext, type OpenConnector } from '../../context.js';
import { OAuthError } from '../../errors.js';
import { parseClientScopes } from '../../scopes.js';
import { checkConnectorAllowed, requireParam, type GrantHandler } from '../grant.js';
import { issueLoginTokens } from '../login-tokens.js';

function passwordConnector(ctx: IssuerContext, client: Client): { open: OpenConnector; connector: PasswordConnector } {
  const id = ctx.config.oauth2.passwordConnector;
  if (id === undefined) throw new OAuthError('unsupported_grant_type', 'grant_type "password" is not supported');
  const open = ctx.connectors.get(id);
  if (!open) throw new OAuthError('temporarily_unavailable', `the password connector "${id}" is not available`);
  if (open.connector.kind !== 'password') throw new OAuthError('unsupported_grant_type', `the password connector "${id}" does not check passwords`);
  checkConnectorAllowed(client, id);
  if (!connectorServesGrant(open, 'password')) throw new OAuthError('invalid_grant', `connector "${id}" does not serve the password grant (its grantTypes)`);
  return { open, connector: open.connector };
}

/** A connector's refusal as the token endpoint answers it; the person's own rejection is invalid_grant. */
function grantErrorOf(error: ConnectorError, connectorName: string): OAuthError {
  switch (error.code) {
    case 'not_in_allowed_groups':
    case 'account_not_allowed':
    case 'access_denied':
      return new OAuthError('invalid_grant', `the sign-in was refused: ${error.message}`, { cause: error });
    case 'misconfigured':
      return new OAuthError('server_error', `the sign-in method ${connectorName} is not configured correctly`, { cause: error });
    default:
      return new OAuthError('temporarily_unavailable', `the sign-in service ${connectorName} could not check the password; try again later`, { cause: error });
  }
}

export const passwordGrant: GrantHandler = async ({ ctx, form, client, clientIP, cnf }) => {
  const username = requireParam(form, 'username').trim();
  const password = requireParam(form, 'password');
  const scopes = parseClientScopes(client, form.scope);
  if (!scopes.openid) throw new OAuthError('invalid_scope', 'the scope must include "openid"');
  const { open, connector } = passwordConnector(ctx, client);
  // Checked before the password, so a refusal tells nothing about it.
  if (requiresSecondFactor({ mfa: ctx.config.mfa, client, connector: loginConnectorOf(ctx.config, open), acrValues: client.defaultACRValues })) {
    throw new OAuthError('invalid_grant', 'this sign-in needs a second factor, which the password grant cannot ask for: use the authorization code flow');
  }

  const throttle = createLoginThrottle(ctx.storage, ctx.config.login.throttle, ctx.now);
  const userKey = `user:${open.id}:${username.toLowerCase()}`;
  const keys = client.public ? [userKey, `ip:${clientIP()}`] : [userKey];
  const locked = await throttle.lockedFor(keys);
  if (locked > 0) throw new OAuthError('invalid_grant', `too many failed sign-in attempts: try again in ${describeWait(locked)}`);

  let identity;
  try {
    identity = await connector.login({ offlineAccess: scopes.offlineAccess, groups: scopes.groups }, username, password);
  } catch (error) {
    ctx.metrics.logins.inc({ connector: open.id, result: 'failure' });
    throw error instanceof ConnectorError ? grantErrorOf(error, open.name) : error;
  }
  if (!identity) {
    ctx.metrics.logins.inc({ connector: open.id, result: 'failure' });
    const nowLocked = await throttle.fail(keys);
    throw new OAuthError('invalid_grant', nowLocked > 0
      ? `invalid username or password; too many failed attempts: try again in ${describeWait(nowLocked)}`
      : 'invalid username or password');
  }
  await throttle.reset([userKey]);
  ctx.metrics.logins.inc({ connector: open.id, result: 'success' });

  return issueLoginTokens(ctx, client, {
    connectorId: open.id,
    identity: storedIdentity(identity),
    connectorData: encodeConnectorData(identity.connectorData),
    scopes: scopes.all,
    sessionId: randomToken(16),
    authTime: Math.floor(ctx.now() / 1000),
    ...(form.nonce ? { nonce: form.nonce } : {}),
  }, { grant: 'password', includeNonce: true, cnf });
};
