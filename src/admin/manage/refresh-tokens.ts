/**
 * Refresh tokens of a user (Dex's ListRefresh/RevokeRefresh). The user is named by the `sub` of their
 * ID token, decoded as Dex decodes it (parseSubject) into the connector's user ID and the connector.
 * Where Dex keeps one refresh token per user and client, idgate keeps one family per login session,
 * so a user may have several for one client: ListRefresh lists each family, RevokeRefresh revokes
 * every family of that client through revokeSession (deleted, and its `sid` denied by /userinfo and
 * every filter until its tokens expire).
 */
import { parseSubject } from '../../oidc/claims.js';
import { revokeSession } from '../../oidc/revocation.js';
import type { RefreshToken } from '../../storage/storage.js';
import { boundedClientText } from '../../telemetry/audit.js';
import { InvalidArgumentError, type ManagementDeps } from './service.js';

export interface RefreshTokenRef {
  /** The family (session) ID, the `sid` of its tokens. */
  id: string;
  clientId: string;
  /** Epoch seconds, as Dex answers. */
  createdAt: number;
  lastUsed: number;
}

async function familiesOf(deps: ManagementDeps, sub: string): Promise<RefreshToken[]> {
  const subject = parseSubject(sub);
  if (!subject) throw new InvalidArgumentError('user_id', 'not a sub this issuer issued (base64url of the protobuf user ID and connector ID, as in Dex)');
  const families = await deps.storage.refreshTokens.list({ index: subject.userId });
  return families.filter((family) => family.connectorId === subject.connectorId && family.identity.userId === subject.userId);
}

export async function listRefresh(deps: ManagementDeps, sub: string): Promise<RefreshTokenRef[]> {
  return (await familiesOf(deps, sub)).map((family) => ({
    id: family.id,
    clientId: family.clientId,
    createdAt: Math.floor(family.createdAt / 1000),
    lastUsed: Math.floor(family.lastUsedAt / 1000),
  }));
}

/** Revokes every refresh-token family of the user for `clientId`; notFound when there was none. */
export async function revokeRefresh(deps: ManagementDeps, sub: string, clientId: string): Promise<{ notFound: boolean }> {
  const subject = boundedClientText(sub);
  let families: RefreshToken[];
  try {
    families = (await familiesOf(deps, sub)).filter((family) => family.clientId === clientId);
  } catch (error) {
    deps.audit.write({ event: 'session_revoked', outcome: 'refused', reason: 'invalid_argument', clientId, subject });
    throw error;
  }
  if (families.length === 0) {
    deps.audit.write({ event: 'session_revoked', outcome: 'ignored', reason: 'not_found', clientId, subject });
    return { notFound: true };
  }
  for (const family of families) {
    await revokeSession(deps, { sessionId: family.id, userId: family.identity.userId, clientId: family.clientId }, 'revoked_by_admin');
  }
  return { notFound: false };
}
