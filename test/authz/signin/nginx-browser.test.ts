/**
 * Browser sign-in as a person sees it: headless Chromium (Debian's) through a real nginx configured as
 * docs/integrations/nginx.md prints it (only the ports substituted), in front of a small app on two
 * hosts, with a real idgate issuer and filter. Open the app, get sent to idgate, sign in, land on the
 * original URL with the app seeing the identity headers; a group-restricted route answers 403 to a user
 * outside the group; the second app signs in without a password (the issuer's login session: SSO), and
 * sign-out from one ends both (RP-initiated logout ends the issuer session, whose sid revocation reaches
 * the filter through the revocation feed).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFilterRevocations, type RunningRevocationList } from '../../../src/authz/revocations.js';
import { freePort } from '../../helpers/free-port.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { startFilterFixture, type FilterFixture } from '../helpers/filter-fixture.js';
import { nginxAvailable, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { guideBlockMarked, rawRequest, substitute } from '../helpers/proxy-guide.js';
import { ADMIN, issuerConfig, SHOP_POLICIES, signInConfig, USER } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';

let issuer: TestIssuer;
let revocations: RunningRevocationList;
let fixture: FilterFixture;
let nginx: RunningNginx;
let app: http.Server;
let browser: Browser;
let APP1: string;
let APP2: string;

beforeAll(async () => {
  // Never skipped: a missing nginx or browser is a broken test machine, and .ci/run installs them.
  if (!nginxAvailable()) throw new Error("/usr/sbin/nginx is missing: install Debian's nginx (apt-get install nginx), as .ci/run does");
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  const port = await freePort();
  APP1 = `http://app1.idgate.test:${port}`;
  APP2 = `http://app2.idgate.test:${port}`;
  issuer = await startTestIssuer({ configYaml: issuerConfig([APP1, APP2], `    postLogoutRedirectURIs: ["${APP1}/public/bye", "${APP2}/public/bye"]\n`) });
  // The issuer's own revocations (an ended session's sid) reach the filter through the feed, as in serve.
  revocations = (await startFilterRevocations(issuer.config.storage, { issuerStorage: issuer.storage }))!;
  fixture = await startFilterFixture(SHOP_POLICIES, { defaultWorkload: { namespace: 'shop' }, signIn: signInConfig(issuer.url) }, {
    revocations: revocations.list, revoke: revocations.revoke,
  });
  app = http.createServer((req, res) => {
    const seen = { host: req.headers.host, url: req.url, principal: req.headers['x-idgate-request-principal'], subject: req.headers['x-idgate-subject'], groups: req.headers['x-idgate-groups'] };
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>app</title><pre id="seen">${JSON.stringify(seen).replace(/</g, '\\u003c')}</pre>`);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const block = await guideBlockMarked('nginx.md', 'nginx', '# browser sign-in (filter.signIn)');
  const config = substitute(block, [
    ['server 127.0.0.1:9192;', `server 127.0.0.1:${fixture.filter.httpPort};`],
    ['listen 80;', `listen 127.0.0.1:${port};`],
    ['proxy_pass http://backend;', `proxy_pass http://127.0.0.1:${(app.address() as AddressInfo).port};`],
  ]);
  nginx = await startNginx(() => config, { port });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // host-resolver-rules: the two apps on hosts of their own (cookies are per host), both served by the one nginx.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--host-resolver-rules=MAP *.idgate.test 127.0.0.1'],
  });
});
afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  if (app) await new Promise((resolve) => app.close(resolve));
  await fixture?.close();
  await revocations?.close();
  await issuer?.close();
});

async function seen(page: Page): Promise<Record<string, string>> {
  return JSON.parse((await page.locator('#seen').textContent())!) as Record<string, string>;
}

async function signInAt(page: Page, url: string, user: { email: string; password: string }): Promise<void> {
  await page.goto(url);
  expect(page.url().startsWith(`${issuer.url}/`)).toBe(true);
  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(url);
}

describe('browser sign-in through nginx (docs/integrations/nginx.md)', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('sends the browser to idgate, signs in, and lands on the original URL with the identity headers at the app', async () => {
    const page = await context.newPage();
    await signInAt(page, `${APP1}/orders?page=2`, ADMIN);
    expect(page.url()).toBe(`${APP1}/orders?page=2`);
    const identity = await seen(page);
    expect(identity).toMatchObject({ url: '/orders?page=2', groups: 'admins,staff' });
    expect(identity.principal).toBe(`${issuer.url}/${identity.subject}`);
    const cookies = await context.cookies(APP1);
    const session = cookies.find((c) => c.name === '_idgate_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', domain: 'app1.idgate.test' });
    expect(cookies.filter((c) => c.name.startsWith('_idgate_session_state_'))).toEqual([]);
    await page.screenshot({ path: '/tmp/idgate-signin-app.png' });
    await page.close();
  });

  it('answers 403 on a group-restricted route for a user outside the group', async () => {
    const userContext = await browser.newContext();
    const page = await userContext.newPage();
    await signInAt(page, `${APP1}/orders`, USER);
    const response = await page.goto(`${APP1}/admin/users`);
    expect(response!.status()).toBe(403);
    expect(page.url()).toBe(`${APP1}/admin/users`);
    expect((await page.goto(`${APP1}/orders`))!.status()).toBe(200);
    await userContext.close();
  });

  it('keeps API clients on 401/403 through the same nginx config (no redirect for a request that does not ask for HTML)', async () => {
    const response = await rawRequest(nginx.port, 'GET', '/orders', { host: new URL(APP1).host, accept: 'application/json' });
    expect(response.status).toBe(403);
    const html = await rawRequest(nginx.port, 'GET', '/orders', { host: new URL(APP1).host, accept: 'text/html', authorization: 'Bearer not-a-token' });
    expect(html.status).toBe(403);
  });

  it("keeps the client's query out of the sign-in request's auth URL: it cannot choose the workload", async () => {
    const response = await rawRequest(nginx.port, 'GET', '/orders?labels=app%3Dadmin&namespace=billing', { host: new URL(APP1).host, accept: 'text/html' });
    expect(response.status).toBe(302);
    const signin = fixture.audit.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.reason === 'signin_redirect').at(-1)!;
    expect(signin).toMatchObject({ namespace: 'shop', transport: 'nginx' });
    expect(signin.labels).toBeUndefined();
  });

  it('signs the second app in without a password (SSO), and sign-out from one ends both', async () => {
    const page = await context.newPage();
    await page.goto(`${APP2}/pages`);
    await page.waitForURL(`${APP2}/pages`);
    expect((await seen(page)).groups).toBe('admins,staff');
    // sign_out ends the app1 cookie and sends the browser to the issuer's end_session_endpoint, which asks
    // the person to confirm (the request carries no id_token_hint) and then returns to app1.
    await page.goto(`${APP1}/oauth2/sign_out?rd=%2Fpublic%2Fbye`);
    expect(page.url().startsWith(`${issuer.url}/`)).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${APP1}/public/bye`);
    expect((await context.cookies(APP1)).some((c) => c.name === '_idgate_session')).toBe(false);
    // The other app's cookie is still in the browser, but its issuer session ended: it is refused.
    expect((await context.cookies(APP2)).some((c) => c.name === '_idgate_session')).toBe(true);
    await page.goto(`${APP2}/pages`);
    expect(page.url().startsWith(`${issuer.url}/`)).toBe(true);
    await page.close();
  });
});
