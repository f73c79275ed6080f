/**
 * The life of a device authorization request (RFC 8628) in storage, shared by the device
 * authorization endpoint, the user-code pages and the device_code grant. Created pending with a device
 * code and a user code (only their hashes are kept); entering the user code binds a login to it with a
 * fresh callback secret; that login's callback approves or denies it; the grant then issues tokens once.
 * Every change is a compare-and-swap on the one record, so replicas on one database agree.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hashToken } from '../../storage/secrets.js';
import { NotFoundError, type Client, type DeviceRequest, type StoredIdentity } from '../../storage/storage.js';
import { randomToken } from '../authorize/random.js';
import type { IssuerContext } from '../context.js';
import { formatUserCode, newUserCode, normaliseUserCode, userCodeHash } from './user-code.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code' as const;

/** Dex's paths, relative to the issuer. */
export const DEVICE_PATHS = {
  /** The device authorization endpoint (RFC 8628 §3.1). */
  authorization: '/device/code',
  /** The verification URI: the page where a person enters the user code. */
  verification: '/device',
  /** Where that page posts the code. */
  verifyCode: '/device/auth/verify_code',
  /** Where the login ends (its redirect URI). */
  callback: '/device/callback',
  /** Dex v2.45's deprecated polling endpoint: the token endpoint for the device grant only. */
  token: '/device/token',
} as const;

/** The redirect URI of every login started from a user code; no client registers it. */
export function deviceCallbackURI(ctx: Pick<IssuerContext, 'issuer'>): string {
  return `${ctx.issuer}${DEVICE_PATHS.callback}`;
}

export interface NewDeviceRequest {
  client: Client;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
}

export interface IssuedDeviceCodes {
  deviceCode: string;
  /** As shown to the person (XXXX-XXXX). */
  userCode: string;
  record: DeviceRequest;
}

/** How many fresh user codes to try before giving up; with 20^8 codes a second try is already rare. */
const USER_CODE_ATTEMPTS = 5;

/** A user code no live request holds: claimed atomically (markUsed), so two replicas never share one. */
async function claimUserCode(ctx: IssuerContext, until: number): Promise<string> {
  for (let attempt = 0; attempt < USER_CODE_ATTEMPTS; attempt++) {
    const code = newUserCode();
    if (await ctx.storage.markUsed('device-user-code', userCodeHash(code), until)) return code;
  }
  throw new Error(`no unused user code after ${USER_CODE_ATTEMPTS} attempts`);
}

/**
 * Stores a pending request for expiry.deviceRequests. The record lives as long again, so that a
 * client polling after the codes expired hears expired_token rather than invalid_grant.
 */
export async function createDeviceRequest(ctx: IssuerContext, request: NewDeviceRequest): Promise<IssuedDeviceCodes> {
  const now = ctx.now();
  const lifetime = ctx.config.expiry.deviceRequests;
  const expiresAt = now + 2 * lifetime;
  const userCode = await claimUserCode(ctx, expiresAt);
  const deviceCode = randomToken(32);
  const record: DeviceRequest = {
    id: hashToken(deviceCode),
    userCodeHash: userCodeHash(userCode),
    clientId: request.client.id,
    scopes: request.scopes,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    status: 'pending',
    interval: Math.floor(ctx.config.oauth2.devicePollingInterval / 1000),
    codeExpiresAt: now + lifetime,
    createdAt: now,
    expiresAt,
  };
  await ctx.storage.deviceRequests.create(record);
  return { deviceCode, userCode: formatUserCode(userCode), record };
}

/** The request a typed user code names, if it is a well-formed code of a stored request. */
export async function findByUserCode(ctx: IssuerContext, typed: string): Promise<DeviceRequest | undefined> {
  const code = normaliseUserCode(typed);
  if (code === undefined) return undefined;
  const [record] = await ctx.storage.deviceRequests.list({ index: userCodeHash(code) });
  return record;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** What the login started from a user code carries: its OAuth `state` and the PKCE pair binding its code. */
export interface DeviceLogin {
  state: string;
  codeChallenge: string;
}

/** Why a code entry or callback cannot go on: no such request, expired, already answered, or a newer entry holds it. */
export type DeviceLoginRefusal = 'unknown' | 'expired' | 'completed' | 'superseded';

export class DeviceLoginError extends Error {
  constructor(readonly reason: DeviceLoginRefusal) {
    super(`device login refused: ${reason}`);
    this.name = 'DeviceLoginError';
  }
}

/**
 * Binds a new login to the request: a fresh secret whose hash replaces any earlier one (the latest
 * code entry wins). The secret travels in `state` (`<userCodeHash>.<secret>`) and as the PKCE verifier
 * of the login's code, so the callback can tell this login's code from any other.
 */
export async function beginDeviceLogin(ctx: IssuerContext, record: DeviceRequest): Promise<DeviceLogin> {
  const secret = randomToken(32);
  await ctx.storage.deviceRequests.update(record.id, (current) => {
    assertOpen(current, ctx.now());
    return { ...current, callbackSecretHash: hashToken(secret) };
  }).catch(rethrowNotFound);
  return { state: `${record.userCodeHash}.${secret}`, codeChallenge: createHash('sha256').update(secret, 'ascii').digest('base64url') };
}

/** The request and callback secret a login's `state` names; DeviceLoginError('unknown') if it names none. */
export async function requestOfState(ctx: IssuerContext, state: string | undefined): Promise<{ record: DeviceRequest; secret: string }> {
  const dot = state?.indexOf('.') ?? -1;
  if (!state || dot < 1) throw new DeviceLoginError('unknown');
  const [record] = await ctx.storage.deviceRequests.list({ index: state.slice(0, dot) });
  if (!record) throw new DeviceLoginError('unknown');
  return { record, secret: state.slice(dot + 1) };
}

function secretMatches(record: DeviceRequest, secret: string): boolean {
  return record.callbackSecretHash !== undefined && timingSafeEqual(digest(record.callbackSecretHash), digest(hashToken(secret)));
}

/** Who logged in, as the login's authorization code recorded it. */
export interface DeviceApproval {
  connectorId: string;
  identity: StoredIdentity;
  connectorData?: string;
  authTime: number;
  sessionId: string;
  /** How the person authenticated (the login's second factor too): the tokens' `amr` and `acr`. */
  amr?: string[];
  acr?: string;
}

/**
 * Ends the request with the person's answer, once: only an open request whose latest login holds
 * `secret` changes, to approved (with who logged in) or denied.
 */
export async function settleDeviceRequest(
  ctx: IssuerContext,
  record: DeviceRequest,
  secret: string,
  answer: { approved: true; approval: DeviceApproval } | { approved: false },
): Promise<DeviceRequest> {
  return ctx.storage.deviceRequests.update(record.id, (current) => {
    assertOpen(current, ctx.now());
    if (!secretMatches(current, secret)) throw new DeviceLoginError('superseded');
    if (!answer.approved) return { ...current, status: 'denied', callbackSecretHash: undefined };
    return { ...current, ...answer.approval, status: 'approved', approvedAt: ctx.now(), callbackSecretHash: undefined };
  }).catch(rethrowNotFound);
}

/** Throws why a request can no longer take a person's answer. */
export function assertOpen(record: DeviceRequest, now: number): void {
  if (record.status !== 'pending') throw new DeviceLoginError('completed');
  if (now >= record.codeExpiresAt) throw new DeviceLoginError('expired');
}

/** Gone from storage between read and write: it expired for good. */
function rethrowNotFound(error: unknown): never {
  throw error instanceof NotFoundError ? new DeviceLoginError('expired') : error;
}
