/**
 * The refresh_token grant (RFC 6749 §6) with Dex's refresh semantics: rotation on every use, the
 * previous token honoured for `reuseInterval` (answered with the same new token), absolute and idle
 * lifetimes, optional `disableRotation`, scope and resource (RFC 8707) narrowing only, and the
 * connector asked to re-read the identity. A rotated token presented after the interval revokes the
 * whole family. Families imported from Dex also accept Dex's token format (see refresh-family.ts).
 * A public client's family bound to a DPoP key or certificate is refreshed only with it (binding.ts).
 */
import { ClaimRuleError } from '../../../claims/connector-claims.js';
import { canRefresh, type Identity } from '../../../connector.js';
import { storedIdentity } from '../../../login/flow.js';
import { hashToken } from '../../../storage/secrets.js';
import { NotFoundError, type Client, type StoredIdentity } from '../../../storage/storage.js';
import { subjectOf } from '../../claims.js';
import { withClientClaims } from '../../client-claims.js';
import type { IssuerContext } from '../../context.js';
import { OAuthError } from '../../errors.js';
import { publicRandomId } from '../../public-random-id.js';
import { tokenResources } from '../../resources.js';
import { isSessionRevoked, isSubjectRevoked, revokeSession } from '../../revocation.js';
import { parseScopes, resolveAudience, type ParsedScopes } from '../../scopes.js';
import { checkConnectorAllowed, checkGroupsAllowed, refreshPolicy, requireParam, type GrantHandler } from '../grant.js';
import { checkFamilyBinding } from '../binding.js';
import { issueTokens } from '../issue.js';
import {
  classifySecretHash, familyAccessTokenId, familyExpiresAt, formatRefreshToken, parsePresentedRefreshToken, rotatedSecret, sidOf,
  unexpiredListedAccessTokens,
  type RefreshFamily, type RefreshPolicy,
} from '../refresh-family.js';

const invalid = () => new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');

async function loadFamily(ctx: IssuerContext, familyId: string): Promise<RefreshFamily> {
  const family = (await ctx.storage.refreshTokens.get(familyId)) as RefreshFamily | undefined;
  // Its session revoked (for a login session's family: ended, perhaps on another replica a moment ago).
  if (!family || (await isSessionRevoked(ctx, sidOf(family)))) throw invalid();
  // A family created before its user's sessions were all revoked (one racing the sessions CLI).
  if (await isSubjectRevoked(ctx, subjectOf(family.identity.userId, family.connectorId), { sinceMs: family.createdAt })) throw invalid();
  return family;
}

function checkFamilyOwnedByClient(family: RefreshFamily, client: Client): void {
  if (family.clientId !== client.id) throw new OAuthError('invalid_grant', 'refresh token was issued to another client');
}

/** absoluteLifetime (from creation) and validIfNotUsedFor (idle), whatever storage's own expiry says. */
function checkFamilyNotExpired(family: RefreshFamily, now: number, policy: RefreshPolicy): void {
  if (familyExpiresAt(family.createdAt, family.lastUsedAt, policy) <= now) throw invalid();
}

/** RFC 6749 §6: the scope may be narrowed, never widened; unknown scopes are invalid_scope. */
function grantedScopes(family: RefreshFamily, requested: string | undefined): ParsedScopes {
  const original = parseScopes(family.scopes);
  if (requested === undefined) return original;
  const narrowed = parseScopes(requested);
  const widened = narrowed.all.filter((scope) => !original.all.includes(scope));
  if (widened.length > 0) throw new OAuthError('invalid_scope', `scope(s) not granted originally: ${widened.join(' ')}`);
  return narrowed;
}

function toIdentity(stored: StoredIdentity, connectorData: string | undefined): Identity {
  return { ...stored, ...(connectorData ? { connectorData: Buffer.from(connectorData, 'base64') } : {}) };
}

/** Asks the connector to re-read the identity; a refusal ends the family. */
async function refreshIdentity(ctx: IssuerContext, family: RefreshFamily, scopes: ParsedScopes) {
  const open = ctx.connectors.get(family.connectorId);
  if (!open) throw new OAuthError('invalid_grant', 'the connector this session logged in through is gone');
  if (!canRefresh(open.connector)) return { identity: family.identity, connectorData: family.connectorData };
  try {
    const fresh = await open.connector.refresh({ offlineAccess: true, groups: scopes.groups }, toIdentity(family.identity, family.connectorData));
    return { identity: storedIdentity(fresh), connectorData: fresh.connectorData ? Buffer.from(fresh.connectorData).toString('base64') : family.connectorData };
  } catch (error) {
    ctx.logger.warn({ connectorId: family.connectorId, sid: family.id, err: { message: (error as Error).message } }, 'upstream refresh refused');
    await revokeSession(ctx, { sessionId: family.id, userId: family.identity.userId, clientId: family.clientId }, 'upstream_refresh_failed');
    // The connector's claim rules no longer let the person in: say which, as the login page would.
    const description = error instanceof ClaimRuleError ? `the sign-in was refused: ${error.message}` : 'the upstream identity provider refused to refresh this session';
    throw new OAuthError('invalid_grant', description, { cause: error });
  }
}

/** The secret of the presented refresh token, and its hash (hashToken), computed once per request. */
interface PresentedSecretValue {
  secret: string;
  hash: string;
}

/**
 * Writes the use into the family by CAS and returns the refresh token to hand out: rotated for the
 * current secret, the same rotated one for the previous secret within the interval, the presented one
 * when rotation is disabled. Re-checks against the stored record, so concurrent uses cannot both rotate.
 */
async function recordUse(
  ctx: IssuerContext,
  family: RefreshFamily,
  { secret, hash }: PresentedSecretValue,
  update: { identity: StoredIdentity; connectorData: string | undefined },
): Promise<string> {
  const familyId = family.id;
  const policy = refreshPolicy(ctx);
  const salt = publicRandomId(16);
  let handOut = '';
  await updateFamily(ctx, family, (stored) => {
    // Read the clock on each attempt: a request that started before a concurrent rotation was stored
    // must not count as "within reuseInterval" of it (with reuseInterval 0 that would let both win).
    const now = ctx.now();
    const current = stored as RefreshFamily;
    const presented = classifySecretHash(current, hash, now);
    const base: RefreshFamily = { ...current, identity: update.identity, connectorData: update.connectorData, lastUsedAt: now };
    // A list stored before grant tags keeps only its unexpired tokens, and goes once they all have.
    const stillListed = unexpiredListedAccessTokens(current.accessTokens, now);
    if (stillListed) base.accessTokens = stillListed;
    else delete base.accessTokens;
    const expiresAt = familyExpiresAt(current.createdAt, now, policy);
    if (presented === 'previous_within_interval') {
      const same = rotatedSecret(secret, current.rotationSalt ?? '');
      // Only hand back what really is the current token (a record without our salt cannot say).
      if (hashToken(same) !== current.tokenHash) throw invalid();
      handOut = formatRefreshToken(familyId, same);
      return { ...base, expiresAt };
    }
    if (presented !== 'current') throw invalid();
    if (policy.disableRotation) {
      handOut = formatRefreshToken(familyId, secret);
      return { ...base, expiresAt };
    }
    const rotated = rotatedSecret(secret, salt);
    handOut = formatRefreshToken(familyId, rotated);
    const next: RefreshFamily = {
      ...base,
      tokenHash: hashToken(rotated),
      obsoleteTokenHash: hash,
      // reuseInterval 0: the previous token is never answered again, whatever the replicas' clocks say.
      ...(policy.reuseInterval > 0 ? { obsoleteUntil: now + policy.reuseInterval } : {}),
      rotationSalt: salt,
      expiresAt,
    };
    return next;
  });
  return handOut;
}

/**
 * A family deleted meanwhile (revoked by a concurrent reuse) is an invalid token, not a 500. `family`
 * is the record loadFamily read, unchanged: storage need not decode it again while it is unchanged.
 */
async function updateFamily(ctx: IssuerContext, family: RefreshFamily, updater: (stored: RefreshFamily) => RefreshFamily): Promise<void> {
  try {
    await ctx.storage.refreshTokens.update(family.id, updater, { basis: family });
  } catch (error) {
    if (error instanceof NotFoundError) throw invalid();
    throw error;
  }
}

export const refreshTokenGrant: GrantHandler = async ({ ctx, form, client, cnf }) => {
  const parsed = parsePresentedRefreshToken(requireParam(form, 'refresh_token'));
  if (!parsed) throw invalid();
  const family = await loadFamily(ctx, parsed.familyId);
  // Dex's wire format is honoured only for what Dex issued (idgate import dex); the first use rotates
  // such a family into our format, after which the Dex token is just the previous secret.
  if (parsed.format === 'dex' && family.importedFrom !== 'dex') throw invalid();
  checkFamilyOwnedByClient(family, client);
  checkConnectorAllowed(client, family.connectorId);
  checkFamilyNotExpired(family, ctx.now(), refreshPolicy(ctx));
  const secret = { secret: parsed.secret, hash: hashToken(parsed.secret) };
  const presented = classifySecretHash(family, secret.hash, ctx.now());
  if (presented === 'previous_expired') {
    await revokeSession(ctx, { sessionId: family.id, userId: family.identity.userId, clientId: family.clientId }, 'refresh_token_reused');
    throw new OAuthError('invalid_grant', 'refresh token was already used; the session is revoked');
  }
  if (presented === 'unknown') throw invalid();
  checkFamilyBinding(family, cnf);

  const scopes = grantedScopes(family, form.scope);
  // Like the scope, the resources may be narrowed per request (RFC 8707 §2.2); checked before the token rotates.
  const resources = tokenResources(client, family.resources ?? [], form.resource);
  const refreshed = await refreshIdentity(ctx, family, scopes);
  checkGroupsAllowed(client, refreshed.identity);
  // The client's claim rules see the refreshed identity; a refusal leaves the token unrotated.
  const session = withClientClaims(ctx, {
    issuer: ctx.issuer,
    clientId: client.id,
    connectorId: family.connectorId,
    identity: refreshed.identity,
    scopes,
    audience: await resolveAudience(ctx.storage, client.id, scopes),
    ...(resources.length > 0 ? { resources } : {}),
    sessionId: sidOf(family),
    authTime: family.authTime,
    ...(family.amr ? { amr: family.amr } : {}),
    ...(family.acr !== undefined ? { acr: family.acr } : {}),
  });
  const accessTokenId = familyAccessTokenId(family.id);
  const refreshToken = await recordUse(ctx, family, secret, refreshed);
  const body = await issueTokens(ctx, session, { grant: 'refresh_token', refreshToken, includeNonce: false, accessTokenId, ...(cnf && { cnf }) });
  return { body, audit: { sid: sidOf(family), userId: refreshed.identity.userId, connectorId: family.connectorId, scope: body.scope } };
};
