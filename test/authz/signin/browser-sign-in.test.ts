/**
 * Browser sign-in at the ingress, through the filter's ForwardAuth endpoint (at the address the
 * Traefik guide's sign-in block gives) and a real issuer: the
 * redirect with PKCE, state and nonce, the callback and its cookie, cookie-authenticated decisions
 * (the same policies and identity headers as a JWT), sign-out, back-channel logout, and every way a
 * client may try to get around it: a tampered, expired or other domain's cookie, open redirects, a
 * replayed or foreign callback, API requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../../src/oidc/claims.js';
import { CookieSealer } from '../../../src/authz/signin/cookie-seal.js';
import { followLogin } from '../../helpers/http-login.js';
import { until } from '../../helpers/until.js';
import { startFilterFixture } from '../helpers/filter-fixture.js';
import { ADMIN, COOKIE_SECRET, FILTER_CLIENT, ProxiedBrowser, SHOP_POLICIES, signInConfig, startSignInWorld, traefikGuideAuthPath, USER, type SignInWorld } from './harness.js';

const APP = 'http://shop.example.test';
const OTHER = 'http://wiki.example.test';

let world: SignInWorld;
let clock = Date.now();
const now = () => clock;

let authPath: string;

beforeAll(async () => {
  authPath = await traefikGuideAuthPath();
  world = await startSignInWorld({ appOrigins: [APP, OTHER], now });
});
afterAll(async () => {
  await world?.close();
});

async function endSessionEndpoint(): Promise<string | undefined> {
  const discovery = (await (await fetch(`${world.issuer.url}/.well-known/openid-configuration`)).json()) as { end_session_endpoint?: string };
  return discovery.end_session_endpoint;
}

/** Where a sign_out sends the browser in the end: the post-logout redirect of the issuer's end_session URL, or its own target. */
function afterSignOut(location: string): string {
  const url = new URL(location);
  return url.searchParams.get('post_logout_redirect_uri') ?? location;
}

const browser = () => new ProxiedBrowser(world.fixture.filter.httpPort!, authPath);
const auditLines = () => world.fixture.audit.map((line) => JSON.parse(line) as Record<string, unknown>);
const sessionCookie = (b: ProxiedBrowser, origin = APP) => b.jar.get(`${origin}/`, '_idgate_session');

describe('redirect to sign in', () => {
  it('sends a browser navigation without credentials to the issuer with PKCE (S256), state and nonce, and a state cookie on the callback path', async () => {
    const response = await browser().request(`${APP}/orders?page=2`);
    expect(response.status).toBe(302);
    const location = new URL(response.location!);
    expect(`${location.origin}${location.pathname}`).toBe(`${world.issuer.url}/auth`);
    const params = location.searchParams;
    expect(params.get('client_id')).toBe(FILTER_CLIENT.id);
    expect(params.get('redirect_uri')).toBe(`${APP}/oauth2/callback`);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('scope')).toBe('openid email profile groups');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [stateCookie] = response.setCookies;
    expect(stateCookie).toMatch(new RegExp(`^_idgate_session_state_${params.get('state')}=v1\\.`));
    expect(stateCookie).toContain('Path=/oauth2/; Max-Age=600; HttpOnly; SameSite=Lax');
    expect(stateCookie).not.toContain('Secure'); // http: a browser would drop a Secure cookie
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(auditLines().at(-1)).toMatchObject({ decision: 'deny', status: 302, reason: 'signin_redirect', path: '/orders' });
  });

  it('keeps 401/403 for API requests: not asking for HTML, another method, a script fetch, or carrying a bad token', async () => {
    const b = browser();
    expect((await b.request(`${APP}/orders`, { accept: 'application/json' })).status).toBe(403);
    expect((await b.request(`${APP}/orders`, { method: 'POST' })).status).toBe(403);
    expect((await b.request(`${APP}/orders`, { headers: { 'sec-fetch-mode': 'cors' } })).status).toBe(403);
    expect((await b.request(`${APP}/orders`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(403);
    expect(b.jar.header(`${APP}/oauth2/callback`)).toBeUndefined();
  });

  it('lets through what policies allow without an identity', async () => {
    const response = await browser().request(`${APP}/public/logo.svg`);
    expect(response.status).toBe(200);
  });

  it('does not redirect a workload that is not in signIn.workloads', async () => {
    const b = new ProxiedBrowser(world.fixture.filter.httpPort!, '/traefik?namespace=billing');
    // No policy in billing: allowed, and no sign-in cookie is ever set.
    const response = await b.request(`${APP}/orders`);
    expect(response.status).toBe(200);
    expect(response.setCookies).toEqual([]);
  });
});

describe('callback and the session cookie', () => {
  it('signs in, comes back to the original URL, and the cookie authenticates with the identity headers', async () => {
    const b = browser();
    const { back } = await b.signIn(`${APP}/orders?page=2`, ADMIN);
    expect(back.status).toBe(302);
    expect(back.location).toBe(`${APP}/orders?page=2`);
    const [session, clearState] = back.setCookies;
    expect(session).toMatch(/^_idgate_session=v1\.[A-Za-z0-9_-]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    expect(session!.length).toBeLessThan(4096);
    expect(clearState).toMatch(/^_idgate_session_state_[A-Za-z0-9_-]+=; Path=\/oauth2\/; Max-Age=0;/);
    const page = await b.request(back.location!);
    expect(page.status).toBe(200);
    const sub = subjectOf('08a8684b-db88-4b73-90a9-3cd1661f5466', 'local');
    expect(page.headers.get('x-idgate-request-principal')).toBe(`${world.issuer.url}/${sub}`);
    expect(page.headers.get('x-idgate-subject')).toBe(sub);
    expect(page.headers.get('x-idgate-groups')).toBe('admins,staff');
    expect(auditLines().at(-1)).toMatchObject({ decision: 'allow', reason: 'allowed', requestPrincipal: `${world.issuer.url}/${sub}` });
  });

  it('answers 403 on a group-restricted route for a signed-in user outside the group, and lets the admin in', async () => {
    const user = browser();
    await user.signIn(`${APP}/orders`, USER);
    const denied = await user.request(`${APP}/admin/users`);
    expect(denied.status).toBe(403);
    expect(denied.location).toBeUndefined();
    const admin = browser();
    await admin.signIn(`${APP}/admin/users`, ADMIN);
    expect((await admin.request(`${APP}/admin/users`)).status).toBe(200);
  });

  it('authenticates API requests (a script fetch) with the cookie too', async () => {
    const b = browser();
    await b.signIn(`${APP}/`, USER);
    expect((await b.request(`${APP}/api/orders`, { accept: 'application/json', headers: { 'sec-fetch-mode': 'cors' } })).status).toBe(200);
  });

  it('refuses a tampered cookie: the browser is sent to sign in again and the cookie is cleared', async () => {
    const b = browser();
    await b.signIn(`${APP}/`, USER);
    const value = sessionCookie(b)!;
    const flipped = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`;
    const response = await b.request(`${APP}/orders`, { cookie: `_idgate_session=${flipped}` });
    expect(response.status).toBe(302);
    expect(response.location).toContain(`${world.issuer.url}/auth`);
    expect(response.setCookies.some((c) => /^_idgate_session=; Path=\/; Max-Age=0/.test(c))).toBe(true);
    expect((await b.request(`${APP}/orders`, { accept: 'application/json', cookie: `_idgate_session=${flipped}` })).status).toBe(403);
  });

  it('refuses a cookie sealed with another secret, and a state cookie presented as a session', async () => {
    const other = new CookieSealer('another-secret-that-is-32-characters-long');
    const forged = other.seal('session', 'host=shop.example.test\n_idgate_session', { iss: world.issuer.url, sub: 'mallory', iat: 1, exp: 4102444800, jti: 'x' });
    expect((await browser().request(`${APP}/orders`, { accept: 'application/json', cookie: `_idgate_session=${forged}` })).status).toBe(403);
    const ours = new CookieSealer(COOKIE_SECRET);
    const asState = ours.seal('state', 'host=shop.example.test\n_idgate_session', { iss: world.issuer.url, sub: 'mallory', iat: 1, exp: 4102444800, jti: 'x' });
    expect((await browser().request(`${APP}/orders`, { accept: 'application/json', cookie: `_idgate_session=${asState}` })).status).toBe(403);
    // The same payload sealed right is accepted: the refusals above are the seal's, not the payload's.
    const right = ours.seal('session', 'host=shop.example.test\n_idgate_session', { iss: world.issuer.url, sub: 'mallory', iat: 1, exp: 4102444800, jti: 'x' });
    expect((await browser().request(`${APP}/orders`, { accept: 'application/json', cookie: `_idgate_session=${right}` })).status).toBe(200);
  });

  it('refuses an expired cookie', async () => {
    const b = browser();
    await b.signIn(`${APP}/`, USER);
    const cookie = `_idgate_session=${sessionCookie(b)}`;
    expect((await b.request(`${APP}/orders`, { cookie })).status).toBe(200);
    clock += 12 * 3_600_000 + 1000;
    try {
      const response = await b.request(`${APP}/orders`, { cookie });
      expect(response.status).toBe(302);
      expect(response.location).toContain('/auth?');
    } finally {
      clock = Date.now();
    }
  });

  it("refuses a cookie from another app's domain", async () => {
    const b = browser();
    await b.signIn(`${APP}/`, USER);
    const cookie = `_idgate_session=${sessionCookie(b)}`;
    const response = await b.request(`${OTHER}/pages`, { cookie });
    expect(response.status).toBe(302);
    expect(new URL(response.location!).searchParams.get('redirect_uri')).toBe(`${OTHER}/oauth2/callback`);
    expect((await b.request(`${APP}/orders`, { cookie })).status).toBe(200);
  });
});

describe('the callback refuses what it did not start', () => {
  it('refuses a replayed callback: the state cookie is gone, and with it put back the issuer refuses the used code', async () => {
    const b = browser();
    const toIssuer = await b.request(`${APP}/orders`);
    const stateCookie = toIssuer.setCookies[0]!.split(';')[0]!;
    const callbackURL = await followLogin(toIssuer.location!, { redirectURI: `${APP}/oauth2/callback`, username: USER.email, password: USER.password, jar: b.issuerJar });
    const first = await b.request(callbackURL.href);
    expect(first.status).toBe(302);
    const again = await b.request(callbackURL.href);
    expect(again.status).toBe(400);
    expect(again.body).toContain('Sign-in expired');
    expect(again.setCookies.some((c) => c.startsWith('_idgate_session='))).toBe(false);
    const replayed = await b.request(callbackURL.href, { cookie: stateCookie });
    expect(replayed.status).toBe(400);
    expect(replayed.body).toContain('Sign-in failed');
    expect(replayed.setCookies.some((c) => c.startsWith('_idgate_session='))).toBe(false);
    expect(auditLines().at(-1)).toMatchObject({ status: 400, reason: 'signin_refused' });
  });

  it("refuses a callback in a browser that did not start the sign-in (login CSRF: the attacker's code and state)", async () => {
    const attacker = browser();
    const toIssuer = await attacker.request(`${APP}/orders`);
    const callbackURL = await followLogin(toIssuer.location!, { redirectURI: `${APP}/oauth2/callback`, username: USER.email, password: USER.password, jar: attacker.issuerJar });
    const victim = browser();
    await victim.request(`${APP}/orders`); // the victim has a sign-in of its own in progress
    const response = await victim.request(callbackURL.href);
    expect(response.status).toBe(400);
    expect(sessionCookie(victim)).toBeUndefined();
  });

  it('refuses a state cookie moved to another host', async () => {
    const b = browser();
    const toIssuer = await b.request(`${APP}/orders`);
    const state = new URL(toIssuer.location!).searchParams.get('state');
    const cookie = toIssuer.setCookies[0]!.split(';')[0]!;
    const response = await b.request(`${OTHER}/oauth2/callback?code=x&state=${state}`, { cookie });
    expect(response.status).toBe(400);
    expect(response.body).toContain('Sign-in expired');
  });

  it('shows the issuer refusing (access_denied) as a page, with the return URL to try again', async () => {
    const b = browser();
    const toIssuer = await b.request(`${APP}/orders`);
    const state = new URL(toIssuer.location!).searchParams.get('state');
    const response = await b.request(`${APP}/oauth2/callback?error=access_denied&state=${state}`);
    expect(response.status).toBe(400);
    expect(response.body).toContain('Sign-in cancelled');
    expect(response.body).toContain(`href="${APP}/orders"`);
  });

  it('refuses a callback without a state, or with a malformed one', async () => {
    expect((await browser().request(`${APP}/oauth2/callback?code=abc`)).status).toBe(400);
    expect((await browser().request(`${APP}/oauth2/callback?code=abc&state=%3Cscript%3E`)).status).toBe(400);
    expect((await browser().request(`${APP}/oauth2/nothing-here`)).status).toBe(404);
  });
});

describe('return URLs stay on the site', () => {
  it.each([
    'https://evil.example/x', '//evil.example/x', '/\\evil.example/x', '\\\\evil.example', 'http:evil.example', 'javascript:alert(1)',
    'http://user@shop.example.test/x', '/\r\nSet-Cookie:x=y', 'http://shop.example.test.evil.example/', ' /x', 'https://shop.example.test/x',
  ])('refuses rd=%s on start and sign_out (goes to the site root instead)', async (rd) => {
    const b = browser();
    const start = await b.request(`${APP}/oauth2/start?rd=${encodeURIComponent(rd)}`);
    expect(start.status).toBe(302);
    const callbackURL = await followLogin(start.location!, { redirectURI: `${APP}/oauth2/callback`, username: USER.email, password: USER.password, jar: b.issuerJar });
    expect((await b.request(callbackURL.href)).location).toBe(`${APP}/`);
    expect(afterSignOut((await b.request(`${APP}/oauth2/sign_out?rd=${encodeURIComponent(rd)}`)).location!)).toBe(`${APP}/`);
  });

  it('keeps a same-site rd', async () => {
    const b = browser();
    const start = await b.request(`${APP}/oauth2/start?rd=${encodeURIComponent('/reports?y=2026')}`);
    const callbackURL = await followLogin(start.location!, { redirectURI: `${APP}/oauth2/callback`, username: USER.email, password: USER.password, jar: b.issuerJar });
    expect((await b.request(callbackURL.href)).location).toBe(`${APP}/reports?y=2026`);
  });
});

describe('sign-out and back-channel logout', () => {
  it('ends the session at sign_out: the cookie is cleared, and a copy of it is refused', async () => {
    const b = browser();
    await b.signIn(`${APP}/`, USER);
    const cookie = `_idgate_session=${sessionCookie(b)}`;
    const out = await b.request(`${APP}/oauth2/sign_out?rd=%2Fbye`);
    expect(out.status).toBe(302);
    // RP-initiated logout when the issuer advertises end_session_endpoint (endSessionOnSignOut), else straight back.
    const endSession = await endSessionEndpoint();
    if (endSession) {
      const location = new URL(out.location!);
      expect(`${location.origin}${location.pathname}`).toBe(endSession);
      expect(Object.fromEntries(location.searchParams)).toEqual({ client_id: FILTER_CLIENT.id, post_logout_redirect_uri: `${APP}/bye` });
    } else {
      expect(out.location).toBe(`${APP}/bye`);
    }
    expect(out.setCookies).toEqual([expect.stringMatching(/^_idgate_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/)]);
    expect(sessionCookie(b)).toBeUndefined();
    expect((await b.request(`${APP}/orders`, { accept: 'application/json', cookie })).status).toBe(403);
    expect(auditLines().at(-2)).toMatchObject({ status: 302, reason: 'signed_out' });
  });

  it('ends every app session of an issuer session on a back-channel logout token, and refuses forged ones', async () => {
    const b = browser();
    await b.signIn(`${APP}/`, USER);
    const elsewhere = browser(); // another browser: another issuer session, another sid
    await elsewhere.signIn(`${OTHER}/`, USER);
    const sealer = new CookieSealer(COOKIE_SECRET);
    const app = sealer.open('session', 'host=shop.example.test\n_idgate_session', sessionCookie(b)!) as { sid: string; sub: string };
    const port = world.fixture.filter.httpPort!;
    const post = (token: string) => fetch(`http://127.0.0.1:${port}/signin/backchannel_logout`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }),
    });
    const signer = world.issuer.issuer.context.signer;
    const claims = { iss: world.issuer.url, aud: FILTER_CLIENT.id, iat: Math.floor(Date.now() / 1000), jti: 'lt-1', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } };
    // Forged or wrong: another audience, no event, a nonce, neither sid nor sub, not signed by the issuer.
    expect((await post(await signer.sign({ ...claims, aud: 'someone-else', sid: app.sid }, { typ: 'logout+jwt' }))).status).toBe(400);
    expect((await post(await signer.sign({ ...claims, events: {}, sid: app.sid }, { typ: 'logout+jwt' }))).status).toBe(400);
    expect((await post(await signer.sign({ ...claims, nonce: 'n', sid: app.sid }, { typ: 'logout+jwt' }))).status).toBe(400);
    expect((await post(await signer.sign(claims, { typ: 'logout+jwt' }))).status).toBe(400);
    expect((await post(await signer.sign({ ...claims, sid: app.sid }, { typ: 'at+jwt' }))).status).toBe(400);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, sid: app.sid })).toString('base64url')}.`;
    expect((await post(unsigned)).status).toBe(400);
    expect((await b.request(`${APP}/orders`)).status).toBe(200);

    const ok = await post(await signer.sign({ ...claims, sid: app.sid }, { typ: 'logout+jwt' }));
    expect(ok.status).toBe(200);
    await until(async () => (await b.request(`${APP}/orders`, { accept: 'application/json' })).status, 403);
    // The other browser's session has its own sid: a logout by subject ends it too.
    expect((await elsewhere.request(`${OTHER}/pages`, { accept: 'application/json' })).status).toBe(200);
    expect((await post(await signer.sign({ ...claims, sub: app.sub }, { typ: 'logout+jwt' }))).status).toBe(200);
    await until(async () => (await elsewhere.request(`${OTHER}/pages`, { accept: 'application/json' })).status, 403);
  });
});

describe('an issuer out of reach', () => {
  it('answers a readable 503 page (never a 500), and keeps deciding cookie sessions and APIs', async () => {
    const fixture = await startFilterFixture(SHOP_POLICIES, { defaultWorkload: { namespace: 'shop' }, signIn: signInConfig('http://127.0.0.1:9/dex') });
    try {
      const b = new ProxiedBrowser(fixture.filter.httpPort!);
      const response = await b.request(`${APP}/orders`);
      expect(response.status).toBe(503);
      expect(response.body).toContain('Sign-in unavailable');
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect((await b.request(`${APP}/orders`, { accept: 'application/json' })).status).toBe(403);
      expect((await b.request(`${APP}/public/x`)).status).toBe(200);
      expect(JSON.parse(fixture.audit[0]!)).toMatchObject({ status: 503, reason: 'signin_unavailable' });
    } finally {
      await fixture.close();
    }
  });
});
