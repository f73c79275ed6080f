/**
 * The session cookie (`sessions.cookieName`): 32 random bytes the browser keeps; the session's id is
 * their SHA-256, so nothing stored (nor the `sid` every token shows) can be turned back into a cookie,
 * and a value nobody issued names no session. HttpOnly, SameSite=Lax (it travels on a login's top-level
 * GETs, not on cross-site POSTs), Secure when the issuer URL is https (TLS often ends at a proxy in
 * front), path the issuer path; no Max-Age, so it ends with the browser session at the latest. Forms
 * of the session (logout, account) carry a token derived from the cookie value, so no form secret is
 * stored either.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { IssuerContext } from '../oidc/context.js';
import { randomToken } from '../oidc/authorize/random.js';
import { hashToken } from '../storage/secrets.js';
import type { LoginSession } from '../storage/storage.js';

type CookieIssuer = Pick<IssuerContext, 'issuer' | 'basePath' | 'config'>;

/** What the cookie holds: 32 random bytes, base64url. Anything else is not a session cookie of ours. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** A browser's session, and the cookie value that proved it (for form tokens). */
export interface BrowserSession {
  session: LoginSession;
  cookie: string;
}

function cookieAttributes(issuer: CookieIssuer): string {
  const secure = new URL(issuer.issuer).protocol === 'https:';
  return `Path=${issuer.basePath || '/'}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** The session id a cookie value names. */
export function sessionIdOf(cookie: string): string {
  return hashToken(cookie);
}

/** A fresh cookie value, set on the response; returns it (its hash is the new session's id). */
export function setSessionCookie(ctx: Context, issuer: CookieIssuer): string {
  const value = randomToken(32);
  ctx.append('Set-Cookie', `${issuer.config.sessions.cookieName}=${value}; ${cookieAttributes(issuer)}`);
  return value;
}

export function clearSessionCookie(ctx: Context, issuer: CookieIssuer): void {
  ctx.append('Set-Cookie', `${issuer.config.sessions.cookieName}=; Max-Age=0; ${cookieAttributes(issuer)}`);
}

/**
 * The live session this browser's cookie names, or undefined. A cookie that names none (forged, ended
 * on any replica, expired: storage no longer returns it) is cleared, so the browser stops sending it.
 */
export async function currentSession(ctx: Context, issuer: CookieIssuer & Pick<IssuerContext, 'storage'>): Promise<BrowserSession | undefined> {
  const cookie = ctx.cookies.get(issuer.config.sessions.cookieName);
  if (cookie === undefined || cookie === '') return undefined;
  const session = COOKIE_VALUE.test(cookie) ? await issuer.storage.loginSessions.get(sessionIdOf(cookie)) : undefined;
  if (!session) {
    clearSessionCookie(ctx, issuer);
    return undefined;
  }
  return { session, cookie };
}

/** The anti-CSRF token of the session's own forms: an HMAC of a fixed label under the cookie value. */
export function sessionFormToken(cookie: string): string {
  return createHmac('sha256', cookie).update('idgate session form').digest('base64url');
}

export function sessionFormTokenMatches(cookie: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const expected = Buffer.from(sessionFormToken(cookie));
  const presented = Buffer.from(given);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
