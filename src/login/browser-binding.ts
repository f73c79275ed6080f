/**
 * Binds each login to the browser that started it, so that another browser holding its `req` and
 * `csrf_token` (sent a link, or posting a stolen form) cannot complete it: the login CSRF and session
 * fixation shapes. /auth gives the browser a random value in a cookie (HttpOnly, SameSite=Lax, Secure
 * for an https issuer, path the issuer path) and stores its SHA-256 on the auth request; every later
 * step compares the cookie it receives with that hash. The value is kept for the browser session and
 * reused by the next /auth, so logins in several tabs do not undo each other. SameSite=Lax cookies
 * travel on top-level GETs (the redirect back from an upstream) but not on cross-site POSTs (the SAML
 * POST binding): those answers are parked and collected by a GET (callback.ts).
 */
import type { Context } from 'koa';
import type { IssuerContext } from '../oidc/context.js';
import { randomToken } from '../oidc/authorize/random.js';
import { hashToken } from '../storage/secrets.js';
import type { AuthRequest } from '../storage/storage.js';
import { LoginError } from './errors.js';
import { loadAuthRequest } from './flow.js';

export const BROWSER_COOKIE = 'idgate_browser';

/** 32 random bytes, base64url: what /auth sets; anything else in the cookie is ignored. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

function cookieValue(ctx: Context): string | undefined {
  const value = ctx.cookies.get(BROWSER_COOKIE);
  return value !== undefined && COOKIE_VALUE.test(value) ? value : undefined;
}

/**
 * The hash to store on a new auth request: of the browser's cookie, or of a fresh value set now. The
 * cookie header is written by hand, as `Secure` follows the issuer URL and not this hop's protocol
 * (TLS usually ends at a proxy in front).
 */
export function bindBrowser(ctx: Context, issuer: Pick<IssuerContext, 'issuer' | 'basePath'>): string {
  const existing = cookieValue(ctx);
  if (existing) return hashToken(existing);
  const value = randomToken(32);
  const secure = new URL(issuer.issuer).protocol === 'https:';
  ctx.append('Set-Cookie', `${BROWSER_COOKIE}=${value}; Path=${issuer.basePath || '/'}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
  return hashToken(value);
}

export function wrongBrowser(): LoginError {
  return new LoginError(
    'wrong_browser', 403, 'Start again from the application',
    'This sign-in was started in another browser, or your browser did not keep its sign-in cookie. Go back to the application and start again.',
  );
}

/** Throws the "start again" page unless this request carries the cookie `authRequest` was bound to. */
export function assertSameBrowser(ctx: Context, authRequest: AuthRequest): void {
  const value = cookieValue(ctx);
  // Both sides are SHA-256 digests of random values: comparing them leaks nothing useful.
  if (!value || !authRequest.browserHash || hashToken(value) !== authRequest.browserHash) throw wrongBrowser();
}

/** The auth request a page or form names, provided this browser started it. */
export async function loadOwnAuthRequest(ctx: Context, issuer: IssuerContext, id: string | undefined): Promise<AuthRequest> {
  const authRequest = await loadAuthRequest(issuer, id);
  assertSameBrowser(ctx, authRequest);
  return authRequest;
}
