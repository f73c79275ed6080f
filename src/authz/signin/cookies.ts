/**
 * The sign-in cookies on the application's host: the session (its claims sealed into the value, so
 * any filter replica decides on it without storage) and one state cookie per sign-in in progress
 * (PKCE verifier, nonce, where to go back), sent only to the callback path. Reading them from a
 * Cookie header, writing Set-Cookie, and the scope (host or cookie domain) each is bound to.
 */
import type { SignInConfig } from './config.js';

/** Browsers keep at most 4096 bytes of name and value; nginx's default header buffer is 8 KiB for the whole Cookie line. */
export const MAX_COOKIE_BYTES = 4000;

export type CookieSettings = SignInConfig['cookie'];

/** Every value of a cookie in a Cookie header (a browser may send the same name twice, for two paths or domains). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      if (value) values.push(value);
    }
  }
  return values;
}

/** The host without its port, lower-cased ([v6] kept in brackets). */
export function hostnameOf(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** The configured cookie domain when the host is inside it, else none (a host-only cookie). */
export function cookieDomainFor(settings: CookieSettings, hostname: string): string | undefined {
  if (!settings.domain) return undefined;
  const domain = settings.domain.replace(/^\./, '').toLowerCase();
  return hostname === domain || hostname.endsWith(`.${domain}`) ? domain : undefined;
}

/** What a session cookie is bound to: the cookie domain it was set for, else the host (ports share cookies). */
export function sessionScope(settings: CookieSettings, host: string): string {
  const hostname = hostnameOf(host);
  const domain = cookieDomainFor(settings, hostname);
  return `${domain ? `domain=${domain}` : `host=${hostname}`}\n${settings.name}`;
}

/** The state cookie's name for one sign-in: the state value is in it, so parallel sign-ins (tabs) never clash. */
export function stateCookieName(settings: CookieSettings, state: string): string {
  return `${settings.name}_state_${state}`;
}

export interface CookieAttributes {
  path: string;
  maxAgeSeconds: number;
  domain?: string;
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
}

export function setCookie(name: string, value: string, attributes: CookieAttributes): string {
  let cookie = `${name}=${value}; Path=${attributes.path}; Max-Age=${attributes.maxAgeSeconds}; HttpOnly; SameSite=${attributes.sameSite}`;
  if (attributes.domain) cookie += `; Domain=${attributes.domain}`;
  if (attributes.secure) cookie += '; Secure';
  return cookie;
}

/** Removes a cookie: the same name, path and domain, empty and already expired. */
export function clearCookie(name: string, attributes: Omit<CookieAttributes, 'maxAgeSeconds'>): string {
  return setCookie(name, '', { ...attributes, maxAgeSeconds: 0 });
}

/** The Secure attribute: as configured, else on https only (a browser drops Secure cookies set over http). */
export function isSecure(settings: CookieSettings, scheme: string): boolean {
  return settings.secure ?? scheme === 'https';
}
