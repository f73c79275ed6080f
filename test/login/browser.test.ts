/**
 * A full login in headless Chromium (the Debian browser, never a downloaded one): /auth for a client,
 * choose the connector, type the password, approve, land on the client's redirect with code and state.
 * Checks accessibility basics on the way (labels resolve, the error is aria-linked, focus order) and
 * saves screenshots of the pages to /tmp for a human look.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, authURL, BASE_CONFIG, startLoginServer, WEB_APP, type LoginServer } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const CONFIG = `${BASE_CONFIG}connectors:
  - type: mockCallback
    id: mock
    name: Mock
`;

let server: LoginServer;
let browser: Browser;

beforeAll(async () => {
  // Never skipped: a missing browser is a broken test machine, and .ci/run installs it.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  server = await startLoginServer({ config: CONFIG });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('login in a real browser', () => {
  it('chooses the connector, signs in, approves and lands on the client with code and state', async () => {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    // The client's redirect URI is not served: stop there and read the URL.
    let landed: URL | undefined;
    await page.route(`${WEB_APP.redirectURI}**`, async (route) => {
      landed = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'client app' });
    });

    await page.goto(authURL(server, { scope: 'openid email groups', state: 'browser-state' }));
    await expect(page.title()).resolves.toBe('Sign in · idgate');
    await page.screenshot({ path: '/tmp/idgate-chooser.png', fullPage: true });
    await page.getByRole('link', { name: 'Continue with Email' }).click();

    // Labels resolve to the inputs; the first field has focus; Tab goes username → password → button.
    const username = page.getByLabel('Email address');
    const password = page.getByLabel('Password');
    await expect(username.getAttribute('autocomplete')).resolves.toBe('username');
    await expect(password.getAttribute('autocomplete')).resolves.toBe('current-password');
    expect(await page.evaluate('document.activeElement?.id')).toBe('login');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.id')).toBe('password');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Sign in');
    await page.screenshot({ path: '/tmp/idgate-login.png', fullPage: true });

    // A wrong password: the error is announced and tied to the fields.
    await username.fill(ADMIN.email);
    await password.fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toBe('Incorrect email address or password.');
    const describedBy = await page.getByLabel('Email address').getAttribute('aria-describedby');
    expect(await page.locator(`#${describedBy}`).textContent()).toBe('Incorrect email address or password.');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: '/tmp/idgate-login-error.png', fullPage: true });

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Grant access' }).waitFor();
    await page.screenshot({ path: '/tmp/idgate-approval.png', fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${WEB_APP.redirectURI}**`);

    expect(landed).toBeDefined();
    expect(landed!.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(landed!.searchParams.get('state')).toBe('browser-state');
    expect(landed!.searchParams.get('iss')).toBe(server.url);
    expect(cspViolations).toEqual([]);
    await page.close();
  });

  it('posts a form_post response to the client from the auto-submitting page, within the CSP', async () => {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    let posted: { method: string; body: URLSearchParams } | undefined;
    await page.route(`${WEB_APP.redirectURI}**`, async (route) => {
      posted = { method: route.request().method(), body: new URLSearchParams(route.request().postData() ?? '') };
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'client app' });
    });

    // prompt=consent: the person approved this client in the test before, and consent is remembered.
    await page.goto(authURL(server, { state: 'fp-state', response_mode: 'form_post', prompt: 'consent' }));
    await page.getByRole('link', { name: 'Continue with Email' }).click();
    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${WEB_APP.redirectURI}**`);

    expect(posted?.method).toBe('POST');
    expect(posted!.body.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(posted!.body.get('state')).toBe('fp-state');
    expect(posted!.body.get('iss')).toBe(server.url);
    expect(cspViolations).toEqual([]);
    await page.close();
  });

  it('renders the dark theme when the browser prefers it', async () => {
    const context = await browser.newContext({ colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(authURL(server));
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(15, 18, 24)');
    await page.screenshot({ path: '/tmp/idgate-chooser-dark.png', fullPage: true });
    await context.close();
  });
});
