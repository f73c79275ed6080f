/**
 * Where a browser may be sent back after signing in or out: only a URL on the same site as the
 * request (the same origin, or another host inside the configured cookie domain with the same
 * scheme), never one the client names elsewhere. Refuses the spellings browsers resolve to another
 * host (`//evil`, `/\evil`, `https:evil`, credentials, control characters and whitespace).
 */
import { cookieDomainFor, hostnameOf, type CookieSettings } from './cookies.js';

/** The request's own origin, `scheme://host` as the proxy reported it. */
export function originOf(scheme: string, host: string): string {
  return `${scheme === 'https' ? 'https' : 'http'}://${host}`;
}

/**
 * The absolute URL `target` names if it is on the same site as `origin`, else undefined. A relative
 * target must be a path (one leading "/" followed by something other than "/" or "\").
 */
export function sameSiteReturnURL(target: string | null | undefined, origin: string, cookie: CookieSettings): string | undefined {
  if (!target || target.length > 4096) return undefined;
  // Browsers drop tabs and newlines inside URLs and read "\" as "/": refuse both rather than guess.
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x5c) return undefined;
  }
  if (target.startsWith('/')) {
    if (target.startsWith('//')) return undefined;
    return new URL(target, origin).href;
  }
  if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) return undefined;
  const url = new URL(target);
  const base = new URL(origin);
  if (url.username || url.password || url.protocol !== base.protocol) return undefined;
  if (url.host === base.host) return url.href;
  const domain = cookieDomainFor(cookie, hostnameOf(base.host));
  return domain !== undefined && cookieDomainFor(cookie, url.hostname) === domain ? url.href : undefined;
}
