/**
 * The authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3), as a list of named checks. The code
 * is taken atomically, so it is single-use; a code presented again revokes everything it issued: its
 * session, which for a code of a browser's login session means ending that session everywhere. A
 * `resource` (RFC 8707) narrows the resources the authorization granted; a malformed or unregistered
 * one is refused before the code is taken, one beyond the grant after (the code is then spent).
 */
import { hashToken } from '../../../storage/secrets.js';
import { AlreadyExistsError, type AuthCode, type Client, type UsedId } from '../../../storage/storage.js';
import { subjectOf } from '../../claims.js';
import type { IssuerContext } from '../../context.js';
import { deviceCallbackURI } from '../../device/device-request.js';
import { OAuthError } from '../../errors.js';
import { requestedResources, tokenResources } from '../../resources.js';
import { endLoginSession } from '../../../sessions/end-session.js';
import { isSubjectRevoked, revokeSession } from '../../revocation.js';
import { checkConnectorAllowed, requireParam, type GrantHandler } from '../grant.js';
import { issueLoginTokens } from '../login-tokens.js';
import { checkPkce } from '../pkce.js';

/** Remembers a redeemed code (by hash) until its original expiry, with the session it started. */
interface RedeemedCodeMarker extends UsedId {
  sessionId: string;
  /** The session is the browser's login session (AuthCode.loginSession). */
  loginSession?: boolean;
  clientId: string;
  userId: string;
}

const markerId = (codeHash: string) => `code:${codeHash}`;

/**
 * Redeems the code once. The redeemed-marker is claimed before the code is taken: of two concurrent
 * redemptions exactly one claims it, and the other is treated as reuse and revokes the session at once
 * (the winner's refresh family is then refused too, since refresh checks the session's revocation).
 */
async function redeemCode(ctx: IssuerContext, code: string): Promise<AuthCode> {
  const codeHash = hashToken(code);
  const pending = await ctx.storage.authCodes.get(codeHash);
  if (pending) {
    const marker: RedeemedCodeMarker = {
      id: markerId(codeHash),
      expiresAt: pending.expiresAt,
      sessionId: pending.sessionId,
      ...(pending.loginSession ? { loginSession: true } : {}),
      clientId: pending.clientId,
      userId: pending.identity.userId,
    };
    const claimed = await ctx.storage.usedIds.create(marker).then(
      () => true,
      (error: unknown) => {
        if (error instanceof AlreadyExistsError) return false;
        throw error;
      },
    );
    const record = claimed ? await ctx.storage.authCodes.take(codeHash) : undefined;
    if (record) return record;
  }
  const marker = (await ctx.storage.usedIds.get(markerId(codeHash))) as RedeemedCodeMarker | undefined;
  if (marker) {
    if (marker.loginSession) await endLoginSession(ctx, { sessionId: marker.sessionId, userId: marker.userId }, 'code_reused');
    else await revokeSession(ctx, { sessionId: marker.sessionId, userId: marker.userId, clientId: marker.clientId }, 'code_reused');
    throw new OAuthError('invalid_grant', 'authorization code was already used; the tokens issued for it are revoked');
  }
  throw new OAuthError('invalid_grant', 'authorization code is invalid or expired');
}

function checkCodeNotExpired(code: AuthCode, now: number): void {
  if (code.expiresAt <= now) throw new OAuthError('invalid_grant', 'authorization code is invalid or expired');
}

function checkCodeIssuedToClient(code: AuthCode, client: Client): void {
  if (code.clientId !== client.id) throw new OAuthError('invalid_grant', 'authorization code was issued to another client');
}

/** RFC 6749 §4.1.3: identical to the redirect_uri of the authorization request, compared as strings. */
function checkRedirectUriMatches(code: AuthCode, redirectUri: string): void {
  if (code.redirectURI !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
}

/** A code of a login started from a device's user code is redeemed by /device/callback alone. */
function checkNotDeviceLogin(ctx: IssuerContext, code: AuthCode): void {
  if (code.redirectURI === deviceCallbackURI(ctx)) throw new OAuthError('invalid_grant', 'authorization code is invalid or expired');
}

/**
 * Where PKCE is required (public clients, requirePKCE, oauth2.pkce.enforce) the code must carry an S256
 * challenge, and a plain one only passes while oauth2.pkce.allowPlain is set; /auth enforces the same,
 * this is the second lock on the door.
 */
function checkPkceWasUsed(ctx: IssuerContext, client: Client, code: AuthCode): void {
  const required = client.public || client.requirePKCE === true || ctx.config.oauth2.pkce.enforce;
  if (required && (!code.codeChallenge || code.codeChallengeMethod !== 'S256')) {
    throw new OAuthError('invalid_grant', 'this client must use PKCE with S256');
  }
  if (code.codeChallenge && code.codeChallengeMethod !== 'S256' && !ctx.config.oauth2.pkce.allowPlain) {
    throw new OAuthError('invalid_grant', 'the code was issued with PKCE plain, which is not accepted: use S256');
  }
}

/** An operator revoked every session of the user after the code was issued (`idgate sessions revoke`). */
async function checkSubjectNotRevoked(ctx: IssuerContext, code: AuthCode): Promise<void> {
  if (await isSubjectRevoked(ctx, subjectOf(code.identity.userId, code.connectorId), { sinceMs: code.createdAt })) {
    throw new OAuthError('invalid_grant', "the user's sessions were revoked after this authorization code was issued");
  }
}

export const authorizationCodeGrant: GrantHandler = async ({ ctx, form, client, cnf }) => {
  const code = requireParam(form, 'code');
  const redirectUri = requireParam(form, 'redirect_uri');
  requestedResources(client, form.resource);
  const record = await redeemCode(ctx, code);
  checkCodeNotExpired(record, ctx.now());
  checkCodeIssuedToClient(record, client);
  checkRedirectUriMatches(record, redirectUri);
  checkNotDeviceLogin(ctx, record);
  checkConnectorAllowed(client, record.connectorId);
  checkPkceWasUsed(ctx, client, record);
  checkPkce(record, form.code_verifier);
  await checkSubjectNotRevoked(ctx, record);
  const resources = tokenResources(client, record.resources ?? [], form.resource);
  return issueLoginTokens(ctx, client, record, { grant: 'authorization_code', includeNonce: true, resources, cnf });
};
