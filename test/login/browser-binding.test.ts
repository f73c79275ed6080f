/**
 * The login bound to the browser that started it: /auth sets the binding cookie, every later step
 * (chooser, connector start, password form and POST, upstream callback, approval) refuses a browser
 * without it or with another one, with a readable page; a POSTed upstream answer (SAML, form_post) is
 * parked and collected only by the same browser with the token its own POST got back.
 */
import type { Context } from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SAMLConnector } from '../../src/connector.js';
import { BROWSER_COOKIE, bindBrowser } from '../../src/login/browser-binding.js';
import { hashToken } from '../../src/storage/secrets.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { parseForms } from '../helpers/http-login.js';
import { ADMIN, authURL, BASE_CONFIG, BROWSER, get, location, openPasswordForm, postForm, startLoginServer, WEB_APP, type LoginServer } from './harness.js';

const CONFIG = `${BASE_CONFIG}connectors:
  - type: mockCallback
    id: mock
    name: Mock
`;

const saml: SAMLConnector = {
  kind: 'saml',
  async postData(_scopes, authRequestId) {
    return { ssoURL: 'https://idp.example.org/sso', samlRequest: `REQ-${authRequestId}`, requestId: 'id-1' };
  },
  async handlePost(_scopes, samlResponse) {
    return { userId: `saml-${samlResponse}`, username: samlResponse, email: `${samlResponse}@example.org`, emailVerified: true };
  },
};

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer({ config: CONFIG, extraConnectors: [{ id: 'saml', type: 'saml', name: 'Corp SAML', connector: saml }] });
});
afterAll(() => server.close());
// Each test is a browser of its own: the login session one test starts would answer the next one's /auth.
afterEach(() => BROWSER.clear());

async function expectWrongBrowser(response: Response): Promise<void> {
  expect(response.status).toBe(403);
  expect(response.headers.get('location')).toBeNull();
  const html = await response.text();
  expect(html).toMatch(/<title>Start again from the application · idgate<\/title>/);
  expect(html).toMatch(/started in another browser, or your browser did not keep its sign-in cookie/);
  expect(html).toMatch(/Request ID: <code>/);
}

/** A jar holding only a well-formed binding cookie this server never issued. */
function forgedBrowser(): CookieJar {
  const jar = new CookieJar();
  jar.store(server.url, new Response(null, { headers: { 'set-cookie': `${BROWSER_COOKIE}=${'A'.repeat(43)}; Path=/dex` } }));
  return jar;
}

/** /auth for `connector` in the test's browser; the start URL /auth/{connector}?req=… it redirects to. */
async function begin(connector: string, jar = BROWSER): Promise<URL> {
  return location(await get(authURL(server, { connector_id: connector }), {}, jar), server.url);
}

describe('the binding cookie', () => {
  it('is set by /auth: HttpOnly, SameSite=Lax, the issuer path, its hash on the auth request', async () => {
    const jar = new CookieJar();
    const response = await get(authURL(server), {}, jar);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith(`${BROWSER_COOKIE}=`))!;
    expect(cookie).toMatch(new RegExp(`^${BROWSER_COOKIE}=[A-Za-z0-9_-]{43}; Path=/dex; HttpOnly; SameSite=Lax$`));
    const req = /req=([A-Za-z0-9_-]+)/.exec(await response.text())![1]!;
    const stored = await server.context.storage.authRequests.get(req);
    expect(stored!.browserHash).toBe(hashToken(jar.get(server.url, BROWSER_COOKIE)!));
  });

  it('is kept for the browser session: a second /auth reuses it, so two tabs both complete', async () => {
    const jar = new CookieJar();
    const first = await openPasswordForm(server, { connector_id: 'local' }, jar);
    const again = await get(authURL(server), {}, jar);
    expect(again.headers.getSetCookie()).toEqual([]);
    const second = await openPasswordForm(server, { connector_id: 'local' }, jar);
    for (const tab of [first, second]) {
      const done = await postForm(tab.action, { ...tab.fields, login: ADMIN.email, password: ADMIN.password }, {}, jar);
      expect(location(done, server.url).pathname).toBe('/dex/approval');
    }
  });

  it('is Secure when the issuer is https, whatever the hop to idgate was', () => {
    const headers: string[] = [];
    const ctx = { cookies: { get: () => undefined }, append: (_name: string, value: string) => headers.push(value) } as unknown as Context;
    const hash = bindBrowser(ctx, { issuer: 'https://id.example.com/dex', basePath: '/dex' });
    expect(headers).toHaveLength(1);
    expect(headers[0]).toMatch(new RegExp(`^${BROWSER_COOKIE}=([A-Za-z0-9_-]{43}); Path=/dex; HttpOnly; SameSite=Lax; Secure$`));
    expect(hash).toBe(hashToken(headers[0]!.split(';')[0]!.split('=')[1]!));
  });

  it('is replaced when the browser sends a malformed value', async () => {
    const jar = new CookieJar();
    jar.store(server.url, new Response(null, { headers: { 'set-cookie': `${BROWSER_COOKIE}=not-ours; Path=/dex` } }));
    const response = await get(authURL(server), {}, jar);
    expect(response.headers.getSetCookie().join()).toMatch(new RegExp(`${BROWSER_COOKIE}=[A-Za-z0-9_-]{43}`));
  });
});

describe('another browser', () => {
  it("cannot post the first browser's req and csrf_token to the password form (login CSRF)", async () => {
    const { action, fields, authRequestId } = await openPasswordForm(server, { connector_id: 'local' });
    for (const other of [new CookieJar(), forgedBrowser()]) {
      await expectWrongBrowser(await postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password }, {}, other));
    }
    const stored = await server.context.storage.authRequests.get(authRequestId);
    expect(stored).toMatchObject({ loggedIn: false });
    // The browser that started it still can.
    const mine = await postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password });
    expect(location(mine, server.url).pathname).toBe('/dex/approval');
  });

  it('cannot open the chooser, start a connector or see the password form of the request', async () => {
    const start = await begin('local');
    const req = start.searchParams.get('req')!;
    const other = new CookieJar();
    await expectWrongBrowser(await get(`${server.url}/auth?req=${req}`, {}, other));
    await expectWrongBrowser(await get(start.toString(), {}, other));
    const form = location(await get(start.toString()), server.url);
    await expectWrongBrowser(await get(form.toString(), {}, other));
    expect((await get(form.toString())).status).toBe(200);
  });

  it('cannot see or submit the approval page of a login it did not start', async () => {
    const { action, fields } = await openPasswordForm(server, { connector_id: 'local' });
    const approvalURL = location(await postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password }), server.url);
    const other = new CookieJar();
    await expectWrongBrowser(await get(approvalURL.toString(), {}, other));
    const page = await get(approvalURL.toString());
    const approval = parseForms(await page.text())[0]!;
    const approvalAction = new URL(approval.action, approvalURL).toString();
    await expectWrongBrowser(await postForm(approvalAction, { ...approval.fields, approval: 'approve' }, {}, other));
    const done = location(await postForm(approvalAction, { ...approval.fields, approval: 'approve' }), server.url);
    expect(`${done.origin}${done.pathname}`).toBe(WEB_APP.redirectURI);
    expect(done.searchParams.get('code')).toBeTruthy();
  });

  it('cannot complete an upstream callback (GET) of a login it did not start', async () => {
    const start = await begin('mock');
    const callback = location(await get(start.toString()), server.url);
    await expectWrongBrowser(await get(callback.toString(), {}, new CookieJar()));
    const mine = location(await get(callback.toString()), server.url);
    expect(mine.pathname).toBe('/dex/approval');
  });
});

describe('a POSTed upstream answer (SAML POST binding, no SameSite=Lax cookie)', () => {
  it('is parked and sent to /callback/{connector}/finish, where the same browser collects it', async () => {
    const req = (await begin('saml')).searchParams.get('req')!;
    await get(`${server.url}/auth/saml?req=${req}`);
    // The IdP's cross-site POST: no cookie.
    const parked = await postForm(`${server.url}/callback/saml`, { SAMLResponse: 'sam', RelayState: req }, {}, new CookieJar());
    expect(parked.status).toBe(303);
    const finish = location(parked, server.url);
    expect(finish.pathname).toBe('/dex/callback/saml/finish');
    const stored = await server.context.storage.authRequests.get(req);
    expect(stored).toMatchObject({ loggedIn: false, parkedLogin: { connectorId: 'saml', identity: { userId: 'saml-sam' } } });
    expect(stored!.parkedLogin!.finishHash).toBe(hashToken(finish.searchParams.get('finish')!));

    await expectWrongBrowser(await get(finish.toString(), {}, new CookieJar()));
    const wrongToken = new URL(finish);
    wrongToken.searchParams.set('finish', 'B'.repeat(43));
    const refused = await get(wrongToken.toString());
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/already used or belongs to another sign-in/);

    const done = await get(finish.toString());
    expect(location(done, server.url).pathname).toBe('/dex/approval');
    const collected = await server.context.storage.authRequests.get(req);
    expect(collected).toMatchObject({ loggedIn: true, identity: { userId: 'saml-sam' } });
    expect(collected!.parkedLogin).toBeUndefined();
    const again = await get(finish.toString());
    expect(again.status).toBe(400);
  });

  it("takes Dex's shared /callback too (the connector comes from the auth request)", async () => {
    const req = (await begin('saml')).searchParams.get('req')!;
    await get(`${server.url}/auth/saml?req=${req}`);
    const parked = await postForm(`${server.url}/callback`, { SAMLResponse: 'shared', RelayState: req }, {}, new CookieJar());
    const finish = location(parked, server.url);
    expect(finish.pathname).toBe('/dex/callback/saml/finish');
    expect(location(await get(finish.toString()), server.url).pathname).toBe('/dex/approval');
  });

  it('does not let a finish URL for one connector collect on another', async () => {
    const req = (await begin('saml')).searchParams.get('req')!;
    await get(`${server.url}/auth/saml?req=${req}`);
    const finish = location(await postForm(`${server.url}/callback/saml`, { SAMLResponse: 'x', RelayState: req }, {}, new CookieJar()), server.url);
    const elsewhere = new URL(finish);
    elsewhere.pathname = '/dex/callback/mock/finish';
    expect((await get(elsewhere.toString())).status).toBe(400);
  });
});
