/**
 * The device_code grant (RFC 8628 §3.4-3.5): the client that asked for the device code polls with it.
 * Pending: authorization_pending, or slow_down when it polled sooner than its interval (which then grows
 * by 5 s for this and every later poll); denied: access_denied; past expiry.deviceRequests:
 * expired_token. Approved: the request turns `issued` in one compare-and-swap, so of concurrent polls
 * exactly one gets the tokens; the device code presented again is invalid_grant and revokes them.
 */
import { hashToken } from '../../../storage/secrets.js';
import { NotFoundError, type Client, type DeviceRequest } from '../../../storage/storage.js';
import { subjectOf } from '../../claims.js';
import type { IssuerContext } from '../../context.js';
import { OAuthError } from '../../errors.js';
import { isSubjectRevoked, revokeSession } from '../../revocation.js';
import { checkConnectorAllowed, requireParam, type GrantHandler } from '../grant.js';
import { issueLoginTokens } from '../login-tokens.js';
import { checkPkce } from '../pkce.js';

/** RFC 8628 §3.5: the interval grows by 5 seconds with every slow_down. */
const SLOW_DOWN_STEP_SECONDS = 5;

/** What one poll found; set by the (possibly re-run) updater, so the last run's answer stands. */
interface PollOutcome {
  slowDown: boolean;
  /** The approved request as it was before it turned `issued` (it still holds the connector data). */
  approved?: DeviceRequest & Required<Pick<DeviceRequest, 'connectorId' | 'identity' | 'authTime' | 'sessionId'>>;
}

/** Thrown inside the update for a request that already issued its tokens: nothing is written. */
class DeviceCodeReused extends Error {
  constructor(readonly record: DeviceRequest) {
    super('device code reused');
  }
}

function checkIssuedToClient(record: DeviceRequest, client: Client): void {
  if (record.clientId !== client.id) throw new OAuthError('invalid_grant', 'device code was issued to another client');
}

function checkNotExpired(record: DeviceRequest, now: number): void {
  if (now >= record.codeExpiresAt) throw new OAuthError('expired_token', 'the device code has expired; start the device flow again');
}

/** A poll sooner than `interval` seconds after the previous one is slowed down, and the interval grows. */
function pollPending(record: DeviceRequest, now: number, outcome: PollOutcome): DeviceRequest {
  outcome.slowDown = record.lastPolledAt !== undefined && now - record.lastPolledAt < record.interval * 1000;
  return { ...record, lastPolledAt: now, interval: outcome.slowDown ? record.interval + SLOW_DOWN_STEP_SECONDS : record.interval };
}

function redeemApproved(record: DeviceRequest, client: Client, verifier: string | undefined, outcome: PollOutcome): DeviceRequest {
  const { connectorId, identity, authTime, sessionId } = record;
  if (connectorId === undefined || identity === undefined || authTime === undefined || sessionId === undefined) {
    throw new Error(`device request ${record.id} is approved without a login`);
  }
  checkPkce(record, verifier);
  checkConnectorAllowed(client, connectorId);
  outcome.approved = { ...record, connectorId, identity, authTime, sessionId };
  // The upstream's connector data moves to the refresh family; the used record keeps only what a replay needs.
  return { ...record, status: 'issued', connectorData: undefined };
}

/** The request's answer to this poll, written back in one compare-and-swap (lastPolledAt, interval, status). */
function poll(record: DeviceRequest, client: Client, verifier: string | undefined, now: number, outcome: PollOutcome): DeviceRequest {
  outcome.slowDown = false;
  outcome.approved = undefined;
  checkIssuedToClient(record, client);
  if (record.status === 'issued') throw new DeviceCodeReused(record);
  checkNotExpired(record, now);
  switch (record.status) {
    case 'pending':
      return pollPending(record, now, outcome);
    case 'denied':
      throw new OAuthError('access_denied', 'the user denied the request', { status: 400 });
    case 'approved':
      return redeemApproved(record, client, verifier, outcome);
  }
}

async function pollDeviceRequest(ctx: IssuerContext, client: Client, deviceCode: string, verifier: string | undefined): Promise<PollOutcome> {
  const outcome: PollOutcome = { slowDown: false };
  const now = ctx.now();
  try {
    await ctx.storage.deviceRequests.update(hashToken(deviceCode), (current) => poll(current, client, verifier, now, outcome));
    return outcome;
  } catch (error) {
    if (error instanceof NotFoundError) throw new OAuthError('invalid_grant', 'device code is invalid or expired');
    if (!(error instanceof DeviceCodeReused)) throw error;
    const { sessionId, identity } = error.record;
    if (sessionId) await revokeSession(ctx, { sessionId, userId: identity?.userId, clientId: client.id }, 'device_code_reused');
    throw new OAuthError('invalid_grant', 'device code was already used; the tokens issued for it are revoked');
  }
}

/** An operator revoked every session of the user after the person approved (`idgate sessions revoke`). */
async function checkSubjectNotRevoked(ctx: IssuerContext, record: NonNullable<PollOutcome['approved']>): Promise<void> {
  if (await isSubjectRevoked(ctx, subjectOf(record.identity.userId, record.connectorId), { sinceMs: record.approvedAt ?? record.createdAt })) {
    throw new OAuthError('invalid_grant', "the user's sessions were revoked after this device was approved");
  }
}

export const deviceCodeGrant: GrantHandler = async ({ ctx, form, client, cnf }) => {
  const deviceCode = requireParam(form, 'device_code');
  const outcome = await pollDeviceRequest(ctx, client, deviceCode, form.code_verifier);
  const approved = outcome.approved;
  if (!approved) {
    if (outcome.slowDown) throw new OAuthError('slow_down', 'polling too fast: wait 5 seconds longer between polls from now on');
    throw new OAuthError('authorization_pending', 'the user has not answered yet');
  }
  await checkSubjectNotRevoked(ctx, approved);
  return issueLoginTokens(ctx, client, approved, { grant: 'urn:ietf:params:oauth:grant-type:device_code', includeNonce: false, cnf });
};
