/**
 * The tokens a token exchange (RFC 8693) presents, read into what the new token is built from. A
 * token of ours (subject or actor) must verify against our keys and issuer, be unexpired and
 * unrevoked, be of the type the request says, and have been issued to or for the requesting client
 * (its client_id or azp, or `aud` naming it: a resource server exchanges what it was sent). An
 * upstream token is verified by the connector `connector_id` names, as Dex does. Every refusal is
 * invalid_request, as RFC 8693 §2.2.2 requires for a subject or actor token that is not acceptable.
 */
import type { JWTPayload } from 'jose';
import { canVerifyTokens, ConnectorError, type SubjectTokenType } from '../../connector.js';
import { grantTagOfJti, type Client, type StoredIdentity } from '../../storage/storage.js';
import { claimsForScopes, identityClaims, parseSubject, scopesShownBy, subjectOf, type ActorClaim } from '../claims.js';
import { connectorServesGrant, type IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { verifyOwnToken, type OwnTokenKind } from '../own-token.js';
import { isIssuedTokenRevoked } from '../revocation.js';
import { CROSS_CLIENT_PREFIX, type ParsedScopes } from '../scopes.js';
import { checkConnectorAllowed } from './grant.js';

/** RFC 8693 §3 token type identifiers idgate accepts and issues. */
export const TOKEN_TYPES: Readonly<Record<OwnTokenKind, SubjectTokenType>> = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
};

/** What the exchanged token is built from, whichever kind of token was presented. */
export interface ExchangeSubject {
  subject: string;
  /** The scopes the subject token carries, the most the new one may have; undefined: an upstream token, limited by the client only. */
  scopes?: string[];
  /** The identity claims the granted scopes allow. */
  identityFor(scopes: ParsedScopes): JWTPayload;
  sessionId?: string;
  /** The grant tag of a subject access token issued with a refresh token: the new one carries it too, so revoking that grant revokes it. */
  grantTag?: string;
  authTime?: number;
  /** The subject token's exp: the new token does not outlive it. */
  notAfter?: number;
  /** Actors recorded in the subject token (a token already exchanged): they nest in the new `act`. */
  priorActors?: ActorClaim;
  /** The person, for the client's claim rules; absent for a token no person logged in for (client_credentials). */
  user?: { identity: StoredIdentity; connectorId: string };
  audit: { sid?: string; userId?: string; connectorId?: string };
}

export function invalidToken(description: string): OAuthError {
  return new OAuthError('invalid_request', description);
}

/** The token kind a `*_token_type` parameter names; required, and only the types idgate issues. */
export function tokenKindOf(form: Record<string, string>, parameter: 'subject_token_type' | 'actor_token_type' | 'requested_token_type'): OwnTokenKind {
  const value = form[parameter];
  if (!value) throw new OAuthError('invalid_request', `the "${parameter}" parameter is required`);
  const kind = (Object.keys(TOKEN_TYPES) as OwnTokenKind[]).find((candidate) => TOKEN_TYPES[candidate] === value);
  if (!kind) throw new OAuthError('invalid_request', `${parameter} must be ${Object.values(TOKEN_TYPES).join(' or ')}`);
  return kind;
}

function audienceOf(payload: JWTPayload): string[] {
  if (Array.isArray(payload.aud)) return payload.aud;
  return typeof payload.aud === 'string' ? [payload.aud] : [];
}

function checkPresentableBy(payload: JWTPayload, kind: OwnTokenKind, client: Client, role: string): void {
  const issuedTo = kind === 'access_token' ? payload.client_id : payload.azp;
  if (issuedTo !== client.id && !audienceOf(payload).includes(client.id)) {
    throw invalidToken(`the ${role} token was not issued to or for client "${client.id}"`);
  }
}

/** A token of ours, checked for `role` ("subject", "actor"); its verified claims. */
export async function readOwnToken(ctx: IssuerContext, client: Client, token: string, kind: OwnTokenKind, role: string): Promise<JWTPayload> {
  const verified = await verifyOwnToken(ctx, token);
  if (!verified) throw invalidToken(`the ${role} token is not a valid, unexpired token of this issuer`);
  if (verified.kind !== kind) throw invalidToken(`the ${role} token is not of the type ${role}_token_type names`);
  if (await isIssuedTokenRevoked(ctx, verified.payload)) throw invalidToken(`the ${role} token was revoked`);
  checkPresentableBy(verified.payload, kind, client, role);
  return verified.payload;
}

function isActorClaim(value: unknown): value is ActorClaim {
  return typeof value === 'object' && value !== null && typeof (value as { sub?: unknown }).sub === 'string';
}

/** The scopes a token of ours shows, less what cannot carry over: offline_access (no refresh token here) and the original client's peers. */
function carriedScopes(payload: JWTPayload, kind: OwnTokenKind): string[] {
  const shown = kind === 'id_token' ? scopesShownBy(payload) : typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  return shown.filter((scope) => scope !== '' && scope !== 'offline_access' && !scope.startsWith(CROSS_CLIENT_PREFIX));
}

/** The identity a token of ours shows (what its scopes let it carry), for the client's claim rules. */
function identityShownBy(payload: JWTPayload, userId: string): StoredIdentity {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const groups = Array.isArray(payload.groups) ? payload.groups.filter((group): group is string => typeof group === 'string') : undefined;
  return {
    userId,
    username: text(payload.name) ?? '',
    preferredUsername: text(payload.preferred_username),
    email: text(payload.email),
    emailVerified: payload.email_verified === true,
    ...(groups ? { groups } : {}),
  };
}

export async function ownSubject(ctx: IssuerContext, client: Client, token: string, kind: OwnTokenKind): Promise<ExchangeSubject> {
  const payload = await readOwnToken(ctx, client, token, kind, 'subject');
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  const grantTag = kind === 'access_token' && typeof payload.jti === 'string' ? grantTagOfJti(payload.jti) : undefined;
  const user = parseSubject(payload.sub!);
  return {
    subject: payload.sub!,
    scopes: carriedScopes(payload, kind),
    identityFor: (scopes) => claimsForScopes(payload, scopes.all),
    ...(sid !== undefined && { sessionId: sid }),
    ...(grantTag !== undefined && { grantTag }),
    ...(typeof payload.auth_time === 'number' && { authTime: payload.auth_time }),
    notAfter: payload.exp!,
    ...(isActorClaim(payload.act) && { priorActors: payload.act }),
    ...(user && user.connectorId !== '' && { user: { identity: identityShownBy(payload, user.userId), connectorId: user.connectorId } }),
    audit: { sid, ...(user && user.connectorId !== '' && { userId: user.userId, connectorId: user.connectorId }) },
  };
}

/** Dex's exchange: the connector `connector_id` names verifies the upstream token and maps it to an identity. */
export async function upstreamSubject(
  ctx: IssuerContext,
  client: Client,
  connectorId: string,
  token: string,
  kind: OwnTokenKind,
): Promise<ExchangeSubject> {
  const open = ctx.connectors.get(connectorId);
  // connector_id is the client's text: named back only once it is known to be a connector.
  if (!open || !canVerifyTokens(open.connector)) throw invalidToken('connector_id names no connector that can verify subject tokens');
  if (!connectorServesGrant(open, 'urn:ietf:params:oauth:grant-type:token-exchange')) {
    throw invalidToken(`connector "${connectorId}" does not serve token exchange (its grantTypes)`);
  }
  checkConnectorAllowed(client, connectorId);
  let verified;
  try {
    verified = await open.connector.tokenIdentity(TOKEN_TYPES[kind], token);
  } catch (error) {
    if (!(error instanceof ConnectorError)) throw error;
    ctx.logger.info({ connectorId, errorCode: error.code, reason: error.message }, 'subject token refused by the connector');
    if (error.code === 'upstream_unavailable') throw new OAuthError('temporarily_unavailable', error.message, { cause: error });
    throw invalidToken(`the subject token was refused: ${error.message}`);
  }
  const { connectorData: _kept, claims: _raw, ...identity } = verified.identity;
  return {
    subject: subjectOf(identity.userId, connectorId),
    identityFor: (scopes) => identityClaims({ identity, scopes, connectorId }),
    ...(verified.expiresAt !== undefined && { notAfter: verified.expiresAt }),
    user: { identity, connectorId },
    audit: { userId: identity.userId, connectorId },
  };
}
