/**
 * The console's sessions: storage-backed, so signing out ends a session on every console replica at
 * once and an operator's session can be seen and ended server-side (a signed cookie could only expire).
 * The cookie holds 32 random bytes; storage keeps only their SHA-256. HttpOnly, SameSite=Strict for the
 * session (it is never needed on a request from another site) and Lax for the short sign-in cookie
 * (it must come back on the issuer's redirect), Secure and `__Secure-` named when publicURL is https.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { ConsoleSession, Storage } from '../../../storage/storage.js';
import { CONSOLE_PATH } from '../config.js';

/** How long a sign-in may take, from the redirect to the issuer until the callback. */
export const SIGN_IN_LIFETIME_MS = 10 * 60_000;

export interface CookieNames {
  session: string;
  signIn: string;
  secure: boolean;
}

export function cookieNames(publicURL: string): CookieNames {
  const secure = new URL(publicURL).protocol === 'https:';
  const prefix = secure ? '__Secure-' : '';
  return { session: `${prefix}idgate-console`, signIn: `${prefix}idgate-console-signin`, secure };
}

const hash = (value: string): string => createHash('sha256').update(value, 'utf8').digest('base64url');
const random = (): string => randomBytes(32).toString('base64url');

/** The cookie's value when it is one we could have set (43 base64url characters), else undefined. */
function cookieValue(ctx: Context, name: string): string | undefined {
  const value = ctx.cookies.get(name);
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

function setCookie(ctx: Context, names: CookieNames, name: string, value: string, options: { maxAgeMs: number; sameSite: 'Strict' | 'Lax' }): void {
  const parts = [`${name}=${value}`, `Path=${CONSOLE_PATH}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeMs / 1000))}`, 'HttpOnly', `SameSite=${options.sameSite}`];
  if (names.secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}

export class ConsoleSessions {
  constructor(
    private readonly storage: Pick<Storage, 'consoleSessions'>,
    private readonly names: CookieNames,
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  /** Starts a sign-in: a record with what the callback checks, and its cookie. */
  async beginSignIn(ctx: Context, pending: NonNullable<ConsoleSession['pending']>): Promise<void> {
    const value = random();
    const now = this.now();
    await this.storage.consoleSessions.create({ id: hash(value), pending, csrfToken: random(), createdAt: now, expiresAt: now + SIGN_IN_LIFETIME_MS });
    setCookie(ctx, this.names, this.names.signIn, value, { maxAgeMs: SIGN_IN_LIFETIME_MS, sameSite: 'Lax' });
  }

  /** The sign-in this browser started, taken once (a replayed callback finds nothing); the cookie is cleared. */
  async takeSignIn(ctx: Context): Promise<NonNullable<ConsoleSession['pending']> | undefined> {
    const value = cookieValue(ctx, this.names.signIn);
    setCookie(ctx, this.names, this.names.signIn, '', { maxAgeMs: 0, sameSite: 'Lax' });
    if (!value) return undefined;
    const record = await this.storage.consoleSessions.take(hash(value));
    return record?.pending;
  }

  /** A new session (a new cookie value: nothing from before the sign-in carries over). */
  async create(ctx: Context, user: NonNullable<ConsoleSession['user']>): Promise<ConsoleSession> {
    const value = random();
    const now = this.now();
    const session: ConsoleSession = { id: hash(value), user, csrfToken: random(), createdAt: now, expiresAt: now + this.lifetimeMs };
    await this.storage.consoleSessions.create(session);
    setCookie(ctx, this.names, this.names.session, value, { maxAgeMs: this.lifetimeMs, sameSite: 'Strict' });
    return session;
  }

  /** The signed-in session this request carries, if any. */
  async current(ctx: Context): Promise<ConsoleSession | undefined> {
    const value = cookieValue(ctx, this.names.session);
    if (!value) return undefined;
    const session = await this.storage.consoleSessions.get(hash(value));
    return session?.user ? session : undefined;
  }

  async end(ctx: Context, session: ConsoleSession): Promise<void> {
    await this.storage.consoleSessions.delete(session.id);
    setCookie(ctx, this.names, this.names.session, '', { maxAgeMs: 0, sameSite: 'Strict' });
  }
}
