/**
 * The rules under the sign-in cookies, one by one: sealing (tamper, purpose, scope, a hostile deflate
 * stream), the scope a cookie is bound to, and which return URLs are the same site.
 */
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseFilterConfig } from '../../../src/authz/config.js';
import { CookieSealer } from '../../../src/authz/signin/cookie-seal.js';
import { cookieValues, sessionScope } from '../../../src/authz/signin/cookies.js';
import { sameSiteReturnURL } from '../../../src/authz/signin/return-url.js';

const SECRET = 'a-cookie-secret-of-at-least-32-characters';
const cookie = (domain?: string) => parseFilterConfig({ signIn: { issuer: 'https://login.example.com', clientID: 'c', clientSecret: 's', cookie: { secret: SECRET, ...(domain ? { domain } : {}) } } }).signIn!.cookie;

describe('sealed cookie values', () => {
  const sealer = new CookieSealer(SECRET);

  it('opens what it sealed, for the same purpose and scope only', () => {
    const sealed = sealer.seal('session', 'host=a.example', { sub: 'alice' });
    expect(sealer.open('session', 'host=a.example', sealed)).toEqual({ sub: 'alice' });
    expect(sealer.open('session', 'HOST=A.EXAMPLE', sealed)).toEqual({ sub: 'alice' });
    expect(sealer.open('session', 'host=b.example', sealed)).toBeUndefined();
    expect(sealer.open('state', 'host=a.example', sealed)).toBeUndefined();
    expect(new CookieSealer(`${SECRET}!`).open('session', 'host=a.example', sealed)).toBeUndefined();
  });

  it('refuses every single-character change, a truncation, another version and a respelled encoding', () => {
    const sealed = sealer.seal('session', 'host=a.example', { sub: 'alice' });
    for (let i = 3; i < sealed.length; i += 7) {
      const changed = `${sealed.slice(0, i)}${sealed[i] === 'A' ? 'B' : 'A'}${sealed.slice(i + 1)}`;
      expect(sealer.open('session', 'host=a.example', changed)).toBeUndefined();
    }
    expect(sealer.open('session', 'host=a.example', sealed.slice(0, -4))).toBeUndefined();
    expect(sealer.open('session', 'host=a.example', `v2${sealed.slice(2)}`)).toBeUndefined();
    expect(sealer.open('session', 'host=a.example', `${sealed}=`)).toBeUndefined();
  });

  it('refuses a value whose (authentic) plaintext inflates past 64 KiB', () => {
    // Sealed with the right key by hand, so only the inflate limit can refuse it.
    const key = Buffer.from(hkdfSync('sha256', Buffer.from(SECRET), Buffer.from('idgate filter.signIn'), Buffer.from('cookie sealing v1'), 32));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from('idgate-signin\nsession\nhost=a.example'));
    const body = Buffer.concat([cipher.update(deflateRawSync(Buffer.from(`"${'a'.repeat(100_000)}"`))), cipher.final()]);
    const bomb = `v1.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
    expect(bomb.length).toBeLessThan(1000);
    expect(sealer.open('session', 'host=a.example', bomb)).toBeUndefined();
  });
});

describe('cookie scope', () => {
  it('is the host without its port, or the cookie domain for hosts inside it', () => {
    expect(sessionScope(cookie(), 'Shop.Example.com:8443')).toBe('host=shop.example.com\n_idgate_session');
    expect(sessionScope(cookie('example.com'), 'shop.example.com')).toBe('domain=example.com\n_idgate_session');
    expect(sessionScope(cookie('example.com'), 'example.com')).toBe('domain=example.com\n_idgate_session');
    expect(sessionScope(cookie('example.com'), 'shop.notexample.com')).toBe('host=shop.notexample.com\n_idgate_session');
  });

  it('reads every value a browser sends under the name, and nothing under a longer name', () => {
    expect(cookieValues('a=1; _idgate_session=x; _idgate_session_state_s=y; _idgate_session=z', '_idgate_session')).toEqual(['x', 'z']);
  });
});

describe('same-site return URLs', () => {
  const origin = 'https://shop.example.com';
  it.each([
    ['/orders?x=1', 'https://shop.example.com/orders?x=1'],
    ['https://shop.example.com/a', 'https://shop.example.com/a'],
  ])('keeps %s', (target, expected) => {
    expect(sameSiteReturnURL(target, origin, cookie())).toBe(expected);
  });

  it.each([
    '//evil.example', '/\\evil.example', 'https:evil.example', 'http://shop.example.com/a', 'https://evil.example', 'https://shop.example.com.evil.example/',
    'https://u:p@shop.example.com/', 'javascript:alert(1)', 'data:text/html,x', '/a\tb', '/a\nb', ' /a', 'a/b', '', '/'.padEnd(5000, 'a'),
  ])('refuses %j', (target) => {
    expect(sameSiteReturnURL(target, origin, cookie())).toBeUndefined();
  });

  it('keeps another host inside the cookie domain, with the same scheme, and nothing else', () => {
    expect(sameSiteReturnURL('https://wiki.example.com/x', origin, cookie('example.com'))).toBe('https://wiki.example.com/x');
    expect(sameSiteReturnURL('https://wiki.example.com/x', origin, cookie())).toBeUndefined();
    expect(sameSiteReturnURL('http://wiki.example.com/x', origin, cookie('example.com'))).toBeUndefined();
    expect(sameSiteReturnURL('https://evil.com/x', origin, cookie('example.com'))).toBeUndefined();
  });
});
