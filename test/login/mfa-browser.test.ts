/**
 * Multi-factor sign-in in headless Chromium (Debian's) against a whole issuer on localhost (WebAuthn
 * wants a domain): TOTP enrollment and sign-in with codes computed in the test, a passkey made and
 * used with Chromium's virtual authenticator (CDP WebAuthn domain), and step-up from a password
 * session to the second factor. On the way: every input has a label, focus starts where the person
 * types and Tab goes on to the button, borders and focus rings keep 3:1, no CSP violation, in light
 * and dark. Screenshots of the new pages go to IDGATE_SCREENSHOTS (docs/images) or /tmp.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { subjectOf } from '../../src/oidc/claims.js';
import { launchBrowser, watchCsp } from '../admin/console/browser.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { totpAt } from '../helpers/totp.js';

const SHOTS = process.env.IDGATE_SCREENSHOTS ?? '/tmp';
const HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';
const PASSWORD = 'password';
/** The client apps' redirect URIs are served by `apps` (started first, so its port is known). */
const APPS = {
  totp: { id: 'totp-app', secret: 'dG90cC1hcHAtc2VjcmV0', redirectURI: '' },
  passkey: { id: 'passkey-app', secret: 'cGFzc2tleS1hcHAtc2VjcmV0', redirectURI: '' },
  plain: { id: 'plain-app', secret: 'cGxhaW4tYXBwLXNlY3JldA', redirectURI: '' },
};
const USERS = { tara: 'tara@example.com', uma: 'uma@example.com', vic: 'vic@example.com' };

const config = () => `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2: { skipApprovalScreen: true }
frontend: { issuer: Example }
enablePasswordDB: true
staticPasswords:
${Object.entries(USERS).map(([name, email]) => `  - { email: ${email}, hash: "${HASH}", username: ${name}, userID: ${name}-id }`).join('\n')}
staticClients:
  - { id: ${APPS.totp.id}, name: Team Wiki, secret: ${APPS.totp.secret}, redirectURIs: [${APPS.totp.redirectURI}], mfaChain: [totp] }
  - { id: ${APPS.passkey.id}, name: Payroll, secret: ${APPS.passkey.secret}, redirectURIs: [${APPS.passkey.redirectURI}], defaultACRValues: [phr] }
  - { id: ${APPS.plain.id}, name: Chat, secret: ${APPS.plain.secret}, redirectURIs: [${APPS.plain.redirectURI}] }
mfa:
  authenticators:
    - { id: totp, type: TOTP, config: { issuer: Example } }
    - { id: passkey, type: WebAuthn, config: { rpDisplayName: Example, userVerification: required } }
  recoveryCodes: 6
`;

let idp: TestIssuer;
let browser: Browser;
let apps: http.Server;
/** The last URL a client app was sent to. */
let landedAt: URL | undefined;
// The issuer's clock decides the TOTP time step; behind real time, so tokens are never from the future.
const clock = manualClock(Date.now() - 10 * 60_000);

beforeAll(async () => {
  apps = http.createServer((request, response) => {
    const url = new URL(request.url!, `http://${request.headers.host}`);
    // Not the favicon the browser asks for next.
    if (url.pathname.endsWith('/callback')) landedAt = url;
    response.end('client app');
  });
  await new Promise<void>((resolve) => apps.listen(0, '127.0.0.1', resolve));
  const { port } = apps.address() as AddressInfo;
  for (const [name, app] of Object.entries(APPS)) app.redirectURI = `http://127.0.0.1:${port}/${name}/callback`;
  idp = await startTestIssuer({ configYaml: config(), host: 'localhost', now: clock });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
  apps?.closeAllConnections();
  await new Promise<void>((resolve) => (apps ? apps.close(() => resolve()) : resolve()));
});

function authURL(app: { id: string; redirectURI: string }, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ client_id: app.id, redirect_uri: app.redirectURI, response_type: 'code', scope: 'openid email', state: 'st', connector_id: 'local', ...params });
  return `${idp.url}/auth?${query}`;
}

/** A new browser (context); `landed` is the URL the last client app was sent to. */
async function newBrowser(colorScheme: 'light' | 'dark' = 'light'): Promise<{ context: BrowserContext; page: Page; csp: string[]; landed: () => URL | undefined }> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 520, height: 760 } });
  const page = await context.newPage();
  landedAt = undefined;
  return { context, page, csp: watchCsp(page), landed: () => landedAt };
}

async function typePassword(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Every visible input, select and textarea has a label that names it. */
async function unlabelledInputs(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !(el.labels && [...el.labels].some((label) => label.textContent.trim())) && !el.getAttribute('aria-label'))
    .map((el) => el.outerHTML)`);
}

/** The contrast of the focused element's outline and of its border against the card behind it. */
async function focusContrast(page: Page): Promise<{ outline: number; border: number }> {
  return page.evaluate(`(() => {
    const parse = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
    const channel = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const ratio = (x, y) => { const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p); return Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100; };
    const element = document.activeElement;
    const card = parse(getComputedStyle(document.querySelector('main')).backgroundColor);
    const style = getComputedStyle(element);
    return { outline: ratio(parse(style.outlineColor), card), border: ratio(parse(style.borderTopColor), card) };
  })()`);
}

async function redeem(app: { id: string; secret: string }, landed: URL) {
  const rp = await client.discovery(new URL(idp.url), app.id, app.secret, undefined, { execute: [client.allowInsecureRequests] });
  return client.authorizationCodeGrant(rp, landed, { expectedState: 'st', idTokenExpected: true });
}

describe('multi-factor sign-in in a real browser', () => {
  it('enrolls an authenticator app from the QR page, then signs in with a code computed here', async () => {
    const first = await newBrowser();
    const { page } = first;
    await page.goto(authURL(APPS.totp));
    await typePassword(page, USERS.tara);
    await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
    expect(await unlabelledInputs(page)).toEqual([]);
    expect(await page.evaluate('document.activeElement?.id')).toBe('totp');
    const contrast = await focusContrast(page);
    expect(contrast.outline).toBeGreaterThanOrEqual(3);
    expect(contrast.border).toBeGreaterThanOrEqual(3);
    await expect(page.getByRole('img', { name: /QR code to add tara@example.com/ }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(SHOTS, 'mfa-totp-enroll-light.png'), fullPage: true });
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Verify and continue');

    const secret = (await page.locator('code.secret').textContent())!.replace(/\s/g, '');
    await page.getByLabel('6-digit code').fill(totpAt(secret, clock()));
    await page.getByRole('button', { name: 'Verify and continue' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await expect(page.locator('.recovery-codes li').count()).resolves.toBe(6);
    await page.getByRole('link', { name: 'I saved them, continue' }).click();
    await page.waitForURL(`${APPS.totp.redirectURI}**`);
    const tokens = await redeem(APPS.totp, first.landed()!);
    expect(tokens.claims()).toMatchObject({ sub: subjectOf('tara-id', 'local'), amr: ['pwd', 'otp', 'mfa'], acr: 'urn:idgate:acr:mfa' });
    expect(first.csp).toEqual([]);
    await first.context.close();

    // Another browser (no session): the password, then the code prompt; a code of the next step.
    for (const scheme of ['light', 'dark'] as const) {
      const next = await newBrowser(scheme);
      await next.page.goto(authURL(APPS.totp));
      await typePassword(next.page, USERS.tara);
      await next.page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      expect(await unlabelledInputs(next.page)).toEqual([]);
      expect(await next.page.evaluate('document.activeElement?.getAttribute("autocomplete")')).toBe('one-time-code');
      await next.page.keyboard.press('Tab');
      expect(await next.page.evaluate('document.activeElement?.textContent')).toBe('Verify');
      await next.page.keyboard.press('Tab');
      expect(await next.page.evaluate('document.activeElement?.textContent')).toBe('Use a recovery code');
      await next.page.getByLabel('6-digit code').focus();
      const ring = await focusContrast(next.page);
      expect(ring.outline).toBeGreaterThanOrEqual(3);
      expect(ring.border).toBeGreaterThanOrEqual(3);
      await next.page.screenshot({ path: join(SHOTS, `mfa-totp-prompt-${scheme}.png`) });
      if (scheme === 'dark') {
        // The enrollment page in dark too (a new login of someone without a secret).
        const enroll = await newBrowser('dark');
        await enroll.page.goto(authURL(APPS.totp));
        await typePassword(enroll.page, USERS.vic);
        await enroll.page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
        await enroll.page.screenshot({ path: join(SHOTS, 'mfa-totp-enroll-dark.png'), fullPage: true });
        await enroll.context.close();
      }
      clock.advance(30_000);
      await next.page.getByLabel('6-digit code').fill(totpAt(secret, clock()));
      await next.page.getByRole('button', { name: 'Verify' }).click();
      await next.page.waitForURL(`${APPS.totp.redirectURI}**`);
      expect(next.landed()!.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(next.csp).toEqual([]);
      await next.context.close();
    }
  });

  it("registers a passkey with Chromium's virtual authenticator and signs in with it, the counter rising", async () => {
    const { context, page, csp, landed } = await newBrowser();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });

    await page.goto(authURL(APPS.passkey));
    await typePassword(page, USERS.uma);
    await page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('webauthn-start');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await page.getByRole('link', { name: 'I saved them, continue' }).click();
    await page.waitForURL(`${APPS.passkey.redirectURI}**`);
    expect((await redeem(APPS.passkey, landed()!)).claims()).toMatchObject({ amr: ['pwd', 'hwk', 'mfa'], acr: 'phr' });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const stored = await idp.storage.mfaCredentials.get(subjectOf('uma-id', 'local'));
    expect(stored?.webauthn[0]?.credentialId).toBe(Buffer.from(credentials[0]!.credentialId, 'base64').toString('base64url'));

    // prompt=login: a new authentication, so the passkey again (this time an assertion).
    await page.goto(authURL(APPS.passkey, { prompt: 'login' }));
    await typePassword(page, USERS.uma);
    await page.getByRole('heading', { name: 'Use your passkey' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'mfa-webauthn-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'mfa-webauthn-dark.png') });
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await page.waitForURL(`${APPS.passkey.redirectURI}**`);
    expect((await redeem(APPS.passkey, landed()!)).claims()).toMatchObject({ acr: 'phr' });
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const counter = (await idp.storage.mfaCredentials.get(subjectOf('uma-id', 'local')))?.webauthn[0]?.counter;
    expect(counter).toBe(after.credentials[0]!.signCount);
    expect(counter).toBeGreaterThan(0);
    expect(csp).toEqual([]);
    await context.close();
  });

  it('steps a password session up to the second factor without asking for the password again', async () => {
    const { context, page, landed } = await newBrowser();
    await page.goto(authURL(APPS.plain));
    await typePassword(page, USERS.tara);
    await page.waitForURL(`${APPS.plain.redirectURI}**`);
    const first = await redeem(APPS.plain, landed()!);
    expect(first.claims()).toMatchObject({ amr: ['pwd'], acr: 'urn:idgate:acr:single-factor' });

    await page.goto(authURL(APPS.plain, { acr_values: 'urn:idgate:acr:mfa' }));
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await expect(page.getByLabel('Password').count()).resolves.toBe(0);
    const secret = (await idp.storage.mfaCredentials.get(subjectOf('tara-id', 'local')))!.totp[0]!.secret;
    clock.advance(30_000);
    await page.getByLabel('6-digit code').fill(totpAt(secret, clock()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${APPS.plain.redirectURI}**`);
    expect((await redeem(APPS.plain, landed()!)).claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'urn:idgate:acr:mfa', sid: first.claims()!.sid });
    await context.close();
  });
});
