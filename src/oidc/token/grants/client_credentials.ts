/**
 * The client_credentials grant (RFC 6749 §4.4): a confidential client that lists it gets an access
 * token on its own behalf (RFC 9068: `sub` and `client_id` are the client, `aud` the client or targets
 * that trust it) and nothing else: no refresh token (§4.4.3), no ID token (there is no end user). The
 * scope is what the client may ask for (its `scopes`); the scopes that ask for a user are refused.
 */
import type { Client } from '../../../storage/storage.js';
import { parseSubject, subjectOf, type TokenContent } from '../../claims.js';
import { OAuthError } from '../../errors.js';
import { parseClientScopes, parseScopes, type ParsedScopes } from '../../scopes.js';
import { grantAudience, requestedTargets } from '../audience.js';
import { checkConfidentialClient, type GrantHandler } from '../grant.js';
import { accessTokenType, issueToken } from '../issue.js';

/**
 * Scopes that ask for claims about, or a lasting session of, an end user: without one they cannot be
 * honoured, and a token silently without what was asked would mislead, so they are invalid_scope
 * (offline_access and federated:id as in Dex). `openid` only asks for an ID token: it is dropped,
 * as RFC 6749 §3.3 lets the server grant less than asked and say so in `scope`.
 */
const USER_SCOPES = ['email', 'profile', 'groups', 'offline_access', 'federated:id'] as const;

/**
 * RFC 9068 §5: a client's `sub` must not be mistaken for a user's. User subjects are Dex-encoded
 * (user ID + connector ID), so a client ID that decodes as one is refused rather than issued.
 */
function checkSubjectIsNoUser(client: Client): void {
  const user = parseSubject(client.id);
  if (user && user.userId !== '' && user.connectorId !== '' && subjectOf(user.userId, user.connectorId) === client.id) {
    throw new OAuthError('unauthorized_client', `client ID "${client.id}" reads as a user's subject, so its own tokens could be taken for that user's`);
  }
}

/** The requested scope, or without one every scope the client may ask for that needs no user. */
function grantedScopes(client: Client, requested: string | undefined): ParsedScopes {
  if (requested === undefined) {
    const defaults = (client.scopes ?? []).filter((scope) => scope !== 'openid' && !(USER_SCOPES as readonly string[]).includes(scope));
    return parseScopes(defaults, { alsoKnown: client.scopes });
  }
  const parsed = parseClientScopes(client, requested);
  const refused = parsed.all.filter((scope) => (USER_SCOPES as readonly string[]).includes(scope));
  if (refused.length > 0) {
    throw new OAuthError('invalid_scope', `scope(s) ${refused.join(' ')} need an end user, and client_credentials has none`);
  }
  return parseScopes(parsed.all.filter((scope) => scope !== 'openid'), { alsoKnown: client.scopes });
}

export const clientCredentialsGrant: GrantHandler = async ({ ctx, form, client, cnf }) => {
  checkConfidentialClient(client, 'client_credentials');
  checkSubjectIsNoUser(client);
  const scopes = grantedScopes(client, form.scope);
  const content: TokenContent = {
    issuer: ctx.issuer,
    subject: client.id,
    audience: await grantAudience(ctx.storage, client, scopes, requestedTargets(client, form)),
    clientId: client.id,
    scopes: scopes.all,
    identity: {},
  };
  const { token, expiresIn } = await issueToken(ctx, content, { grant: 'client_credentials', kind: 'access_token', ...(cnf && { cnf }) });
  const scope = scopes.all.join(' ');
  return { body: { access_token: token, token_type: accessTokenType(cnf), expires_in: expiresIn, scope }, audit: { scope } };
};
