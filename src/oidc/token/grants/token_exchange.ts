/**
 * The token exchange grant (RFC 8693), for confidential clients that list it. Two sources of subject:
 * - a token of ours (no connector_id): the new token keeps its subject, session and identity claims,
 *   narrowed to the granted scope, for the requested `audience`; it never outlives the subject token,
 *   and `act` records who acts for the subject (the actor token's subject, else the requesting client);
 * - an upstream provider's token, through the connector `connector_id` names (Dex's extension): a login
 *   without a browser, answered with that identity's token (`act` only with an actor token).
 * One token is answered, an access token unless requested_token_type asks for an ID token, with its
 * issued_token_type; never a refresh token (so offline_access is not granted).
 */
import type { ActorClaim, TokenContent } from '../../claims.js';
import { clientClaimsFor } from '../../client-claims.js';
import { OAuthError } from '../../errors.js';
import { clientMayAsk, CROSS_CLIENT_PREFIX, parseClientScopes, parseScopes, type ParsedScopes } from '../../scopes.js';
import type { OwnTokenKind } from '../../own-token.js';
import { grantAudience, requestedTargets } from '../audience.js';
import {
  ownSubject, readOwnToken, tokenKindOf, TOKEN_TYPES, upstreamSubject, type ExchangeSubject,
} from '../exchange-subject.js';
import { checkConfidentialClient, requireParam, type GrantHandler, type GrantRequest } from '../grant.js';
import { accessTokenType, issueToken } from '../issue.js';
import { taggedTokenId } from '../refresh-family.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

function requestedKind(form: Record<string, string>): OwnTokenKind {
  return form.requested_token_type === undefined ? 'access_token' : tokenKindOf(form, 'requested_token_type');
}

/**
 * The scope of the new token: as requested, or everything the subject token carries that the client
 * may ask for. A requested scope the subject token does not carry is invalid_scope (no more than it;
 * cross-client scopes are targets, checked as such). offline_access is never granted: no refresh token.
 */
function grantedScopes({ client, form }: GrantRequest, subject: ExchangeSubject): ParsedScopes {
  const carried = subject.scopes;
  if (form.scope === undefined) {
    return parseScopes((carried ?? []).filter((scope) => clientMayAsk(client, scope)), { alsoKnown: carried });
  }
  const requested = parseClientScopes(client, form.scope);
  const beyond = carried ? requested.all.filter((scope) => !carried.includes(scope) && !scope.startsWith(CROSS_CLIENT_PREFIX)) : [];
  if (beyond.length > 0) throw new OAuthError('invalid_scope', `the subject token does not carry scope(s): ${beyond.join(' ')}`);
  return parseScopes(requested.all.filter((scope) => scope !== 'offline_access'), { alsoKnown: client.scopes });
}

/** RFC 8693 §4.1: the current actor, with the subject token's earlier actors nested under it. */
async function actorOf(request: GrantRequest, subject: ExchangeSubject, fromUpstream: boolean): Promise<ActorClaim | undefined> {
  const { ctx, client, form } = request;
  const prior = subject.priorActors ? { act: subject.priorActors } : {};
  if (form.actor_token === undefined) {
    if (form.actor_token_type !== undefined) throw new OAuthError('invalid_request', 'actor_token_type was sent without an actor_token');
    return fromUpstream ? undefined : { sub: client.id, ...prior };
  }
  const actor = await readOwnToken(ctx, client, form.actor_token, tokenKindOf(form, 'actor_token_type'), 'actor');
  return { sub: actor.sub!, ...prior };
}

async function readSubject({ ctx, client, form }: GrantRequest): Promise<ExchangeSubject> {
  const token = requireParam(form, 'subject_token');
  const kind = tokenKindOf(form, 'subject_token_type');
  return form.connector_id !== undefined
    ? upstreamSubject(ctx, client, form.connector_id, token, kind)
    : ownSubject(ctx, client, token, kind);
}

export const tokenExchangeGrant: GrantHandler = async (request) => {
  const { ctx, client, form, cnf } = request;
  checkConfidentialClient(client, GRANT);
  const kind = requestedKind(form);
  const subject = await readSubject(request);
  const scopes = grantedScopes(request, subject);
  const act = await actorOf(request, subject, form.connector_id !== undefined);
  const clientClaims = subject.user && clientClaimsFor(ctx, { clientId: client.id, ...subject.user, scopes: scopes.all });
  const content: TokenContent = {
    issuer: ctx.issuer,
    subject: subject.subject,
    audience: await grantAudience(ctx.storage, client, scopes, requestedTargets(client, form)),
    clientId: client.id,
    scopes: scopes.all,
    identity: subject.identityFor(scopes),
    ...(subject.sessionId !== undefined && { sessionId: subject.sessionId }),
    ...(subject.authTime !== undefined && { authTime: subject.authTime }),
    ...(act && { act }),
    ...(subject.notAfter !== undefined && { notAfter: subject.notAfter }),
    ...(clientClaims && { clientClaims }),
  };
  // Only an access token is bound (RFC 9449 §5); an ID token is no credential to present.
  const bound = kind === 'access_token' ? cnf : undefined;
  const accessTokenId = kind === 'access_token' && subject.grantTag !== undefined ? taggedTokenId(subject.grantTag) : undefined;
  const { token, expiresIn } = await issueToken(ctx, content, { grant: GRANT, kind, ...(bound && { cnf: bound }), ...(accessTokenId && { accessTokenId }) });
  const scope = scopes.all.join(' ');
  return {
    body: {
      access_token: token,
      issued_token_type: TOKEN_TYPES[kind],
      // RFC 8693 §2.2.1: N_A for a token that is not an access token.
      token_type: kind === 'access_token' ? accessTokenType(bound) : 'N_A',
      expires_in: expiresIn,
      scope,
    },
    audit: { ...subject.audit, scope },
  };
};
