/**
 * The device flow's pages in headless Chromium (Debian's): the code form renders in the login theme
 * without a CSP violation, its label and focus work, the whole person's side (code, password,
 * approval) ends on "return to your device", and a form whose CSRF token was tampered with is refused.
 * Screenshots go to /tmp for a human look.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll, requestDeviceCodes } from '../helpers/device.js';
import { ADMIN, DEFAULT_TEST_CONFIG, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const CHROMIUM = '/usr/bin/chromium';

let idp: TestIssuer;
let browser: Browser;

beforeAll(async () => {
  // Never skipped: a missing browser is a broken test machine, and .ci/run installs it.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  idp = await startTestIssuer({ configYaml: DEFAULT_TEST_CONFIG.replace(/connectors:\n {2}- type: mockCallback\n {4}id: mock\n {4}name: Mock\n/, '') });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
});

function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

describe('device flow in a real browser', () => {
  it('renders the code form in the theme, and the person\'s side ends on "return to your device"', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const page = await browser.newPage();
    const violations = watchCsp(page);
    await page.goto(`${idp.url}/device`);
    await expect(page.title()).resolves.toBe('Connect a device · idgate');
    expect(await page.evaluate('getComputedStyle(document.querySelector("main")).maxWidth')).not.toBe('none');
    const code = page.getByLabel('Code');
    expect(await page.evaluate('document.activeElement?.id')).toBe('user_code');
    await page.screenshot({ path: '/tmp/idgate-device-code.png', fullPage: true });
    await code.fill(codes.user_code.toLowerCase());
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByLabel('Email address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Grant access' }).waitFor();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    await page.screenshot({ path: '/tmp/idgate-device-done.png', fullPage: true });
    expect(violations).toEqual([]);
    expect((await poll(idp.url, codes.device_code)).status).toBe(200);
    await page.close();
  });

  it('refuses the code form with a tampered CSRF token', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const page = await browser.newPage();
    await page.goto(`${idp.url}/device?user_code=${codes.user_code}`);
    await page.evaluate('document.querySelector(\'input[name="csrf_token"]\').value = "A".repeat(43)');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'The form could not be accepted' }).waitFor();
    await expect(page.title()).resolves.toBe('The form could not be accepted · idgate');
    expect((await poll(idp.url, codes.device_code)).body.error).toBe('authorization_pending');
    await page.close();
  });
});
