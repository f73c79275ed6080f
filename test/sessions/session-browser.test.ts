/**
 * The login session in headless Chromium (the Debian browser): signed in once for the first client,
 * the session survives navigating away, reloading and going back, and answers the second client
 * without the password; the account page shows it and the remembered consents, withdraws one, and
 * signs out, after which the password is asked again. Screenshots of the account and sign-out pages
 * go to /tmp for a human look.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN, APP_ONE, APP_TWO, appAt, startBackchannelReceiver, startSessionsIssuer, type App, type BackchannelReceiver, type SessionsIssuer,
} from './harness.js';

const CHROMIUM = '/usr/bin/chromium';

let receiver: BackchannelReceiver;
let idp: SessionsIssuer;
let browser: Browser;
/** The two client apps, served for real (a browser follows the issuer's redirects to them). */
let apps: http.Server;
let one: App;
let two: App;
const landed: URL[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  apps = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.endsWith('/callback')) landed.push(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>client app</title><p>client app</p>');
  });
  await new Promise<void>((resolve) => apps.listen(0, '127.0.0.1', resolve));
  const appOrigin = `http://127.0.0.1:${(apps.address() as AddressInfo).port}`;
  [one, two] = [appAt(APP_ONE, appOrigin), appAt(APP_TWO, appOrigin)];
  receiver = await startBackchannelReceiver();
  idp = await startSessionsIssuer(receiver.url, { appOrigin });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await receiver?.close();
  apps?.closeAllConnections();
  if (apps) await new Promise((resolve) => apps.close(resolve));
});

function authURL(app: App, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({ client_id: app.id, redirect_uri: app.redirectURI, response_type: 'code', scope: 'openid email', state: `st-${app.id}`, ...extra });
  return `${idp.url}/auth?${query}`;
}

describe('the login session in a real browser', () => {
  it('survives navigation and answers the second client; the account page withdraws a consent and signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();

    await page.goto(authURL(one));
    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${one.redirectURI}**`);
    expect(landed.at(-1)!.searchParams.get('code')).toBeTruthy();

    // Elsewhere, back, reload: the browser keeps the session cookie (HttpOnly: no script sees it).
    await page.goto('about:blank');
    await page.goBack();
    await page.reload();
    expect(await page.evaluate('document.cookie')).toBe('');
    const before = landed.length;

    // The second client: its approval page, no password.
    await page.goto(authURL(two));
    await page.getByRole('heading', { name: 'Grant access' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${two.redirectURI}**`);
    // And the first again: straight back, neither password nor approval.
    await page.goto(authURL(one));
    await page.waitForURL(`${one.redirectURI}**`);
    expect(landed.slice(before).map((url) => [url.pathname, url.searchParams.has('code')])).toEqual([['/two/callback', true], ['/one/callback', true]]);

    await page.goto(`${idp.url}/account`);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.getByText(`Signed in as ${ADMIN.email} with Email`).count()).toBe(1);
    await expect(page.getByRole('heading', { name: 'App One' }).count()).resolves.toBe(1);
    await page.screenshot({ path: '/tmp/idgate-account.png', fullPage: true });
    await page.getByRole('button', { name: 'Withdraw access of App One' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await expect(page.getByRole('heading', { name: 'App One' }).count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: 'App Two' }).count()).resolves.toBe(1);

    // Withdrawn: the first client's approval page comes back (the session still answers: no password).
    await page.goto(authURL(one));
    await page.getByRole('heading', { name: 'Grant access' }).waitFor();

    await page.goto(`${idp.url}/logout`);
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await page.screenshot({ path: '/tmp/idgate-logout.png', fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();

    await page.goto(authURL(two));
    await page.getByLabel('Password').waitFor();
    await context.close();
  });
});
