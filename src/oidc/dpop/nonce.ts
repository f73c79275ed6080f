/**
 * DPoP server nonces (RFC 9449 §8), the same on every replica: time is cut into windows of
 * oauth2.dpop.nonceLifetime, and the nonce of a window is a random value the first replica to need it
 * stores (usedIds, kept for two windows); the others read it, once per window each. The nonce of the
 * current window is handed out; it and the previous window's are accepted, so a nonce stands between
 * one and two lifetimes and no client can know the next one before it is handed out.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AlreadyExistsError, type UsedId } from '../../storage/storage.js';
import type { IssuerContext } from '../context.js';

const DEFAULT_LIFETIME_MS = 5 * 60_000;

interface NonceRecord extends UsedId {
  nonce: string;
}

/** The windows' nonces this replica has read, newest last (at most the two that are accepted). */
const cachesByIssuer = new WeakMap<IssuerContext, Map<number, string>>();

function lifetimeOf(ctx: IssuerContext): number {
  return ctx.config.oauth2.dpop.nonceLifetime ?? DEFAULT_LIFETIME_MS;
}

async function nonceOfWindow(ctx: IssuerContext, window: number): Promise<string> {
  let cache = cachesByIssuer.get(ctx);
  if (!cache) cachesByIssuer.set(ctx, (cache = new Map()));
  const cached = cache.get(window);
  if (cached) return cached;
  const id = `dpop-nonce:${window}`;
  const lifetime = lifetimeOf(ctx);
  const record: NonceRecord = { id, expiresAt: (window + 2) * lifetime, nonce: `${window}.${randomBytes(16).toString('base64url')}` };
  let nonce = record.nonce;
  try {
    await ctx.storage.usedIds.create(record);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const stored = (await ctx.storage.usedIds.get(id)) as NonceRecord | undefined;
    if (!stored) throw error;
    nonce = stored.nonce;
  }
  cache.set(window, nonce);
  for (const old of cache.keys()) if (old < window - 1) cache.delete(old);
  return nonce;
}

function currentWindow(ctx: IssuerContext): number {
  return Math.floor(ctx.now() / lifetimeOf(ctx));
}

/** The nonce to hand out now (the DPoP-Nonce response header). */
export function currentNonce(ctx: IssuerContext): Promise<string> {
  return nonceOfWindow(ctx, currentWindow(ctx));
}

/** Whether `nonce` is this window's or the previous one's. */
export async function isAcceptedNonce(ctx: IssuerContext, nonce: string): Promise<boolean> {
  const window = Number(nonce.slice(0, nonce.indexOf('.')));
  const current = currentWindow(ctx);
  if (!Number.isSafeInteger(window) || (window !== current && window !== current - 1)) return false;
  const expected = Buffer.from(await nonceOfWindow(ctx, window));
  const given = Buffer.from(nonce);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
