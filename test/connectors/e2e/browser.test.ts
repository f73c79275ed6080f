// Federated logins in headless Chromium (the Debian browser, never a downloaded one): the browser
// goes from the RP's authorization request through idgate to the upstream OIDC IdP and back, and
// through the SAML POST binding (auto-submitted forms) to the SAML IdP and back; the RP then
// redeems the code and gets the federated identity.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_APP } from '../../helpers/issuer.js';
import { startFederation, type Federation } from './fixture.js';

let bed: Federation;
let browser: Browser;

beforeAll(async () => {
  bed = await startFederation();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await bed?.close();
});

/** Opens the authorization URL and waits until the browser reaches the client's redirect URI. */
async function browse(page: Page, url: URL): Promise<URL> {
  let landed: URL | undefined;
  // The client's redirect URI is not served. page.route stops a navigation that lands there, but
  // not the last hop of a redirect chain (that one is seen as a request, then refused): take both.
  page.on('request', (request) => {
    if (request.url().startsWith(EXAMPLE_APP.redirectURI)) landed ??= new URL(request.url());
  });
  await page.route(`${EXAMPLE_APP.redirectURI}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'client app' }));
  await page.goto(url.href).catch((error: unknown) => {
    if (!landed) throw error;
  });
  for (let waited = 0; !landed && waited < 15_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!landed) throw new Error(`the browser did not reach the client; it is at ${page.url()}`);
  return landed;
}

describe('federated login in headless Chromium', () => {
  it('signs in through the upstream OIDC IdP', async () => {
    bed.upstream.nextAccount = 'alice';
    const page = await browser.newPage();
    try {
      const { url, redeem } = await bed.authorize('corp');
      const callback = await browse(page, url);
      const tokens = await redeem(callback);
      expect(tokens.claims()).toMatchObject({ email: 'alice@example.com', name: 'Alice Liddell', groups: ['corp:admins', 'corp:devs'] });
    } finally {
      await page.close();
    }
  });

  it('signs in through the SAML IdP (HTTP-POST binding, auto-submitted forms)', async () => {
    const page = await browser.newPage();
    try {
      const { url, redeem } = await bed.authorize('corp-saml');
      const tokens = await redeem(await browse(page, url));
      expect(tokens.claims()).toMatchObject({ email: 'sam@example.com', groups: ['wiki-editors'] });
    } finally {
      await page.close();
    }
  });
});
