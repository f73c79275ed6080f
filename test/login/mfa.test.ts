/**
 * Multi-factor sign-in over HTTP, as a browser without JavaScript drives it, against a whole issuer:
 * TOTP enrollment and use with codes computed here (test/helpers/totp.ts, not idgate's library),
 * recovery codes, WebAuthn with an authenticator the test controls, the acr and amr the tokens carry
 * (read by openid-client), and the rules' refusals: a reused or wrong code, a counter that went back,
 * another login's challenge, guessing, skipping the step, acr values nothing can meet.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { subjectOf } from '../../src/oidc/claims.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { poll, requestDeviceCodes } from '../helpers/device.js';
import { parseForms } from '../helpers/http-login.js';
import { ADMIN, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { totpAt } from '../helpers/totp.js';
import { TestAuthenticator } from '../helpers/webauthn-authenticator.js';
import { get, location, postForm } from './harness.js';

const HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';
const APPS = {
  totp: { id: 'totp-app', secret: 'dG90cC1hcHAtc2VjcmV0', redirectURI: 'http://127.0.0.1:5555/totp/callback' },
  passkey: { id: 'passkey-app', secret: 'cGFzc2tleS1hcHAtc2VjcmV0', redirectURI: 'http://127.0.0.1:5555/passkey/callback' },
  plain: { id: 'plain-app', secret: 'cGxhaW4tYXBwLXNlY3JldA', redirectURI: 'http://127.0.0.1:5555/plain/callback' },
};
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy'].map((name, index) => ({
  email: `${name}@example.com`, userId: `user-${index}`, name,
}));

const CONFIG = `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2: { skipApprovalScreen: true, passwordConnector: local, grantTypes: [authorization_code, refresh_token, password, 'urn:ietf:params:oauth:grant-type:device_code'] }
enablePasswordDB: true
staticPasswords:
${[ADMIN, ...USERS].map((user) => `  - { email: ${user.email}, hash: "${HASH}", username: ${'name' in user ? user.name : 'admin'}, userID: ${user.userId} }`).join('\n')}
staticClients:
  - { id: ${APPS.totp.id}, name: TOTP App, secret: ${APPS.totp.secret}, redirectURIs: [${APPS.totp.redirectURI}], mfaChain: [totp],
      grantTypes: [authorization_code, refresh_token, password, 'urn:ietf:params:oauth:grant-type:device_code'] }
  - { id: ${APPS.passkey.id}, name: Passkey App, secret: ${APPS.passkey.secret}, redirectURIs: [${APPS.passkey.redirectURI}], defaultACRValues: [phr] }
  - { id: ${APPS.plain.id}, name: Plain App, secret: ${APPS.plain.secret}, redirectURIs: [${APPS.plain.redirectURI}] }
mfa:
  authenticators:
    - { id: totp, type: TOTP, config: { issuer: Example } }
    - { id: passkey, type: WebAuthn, config: { rpDisplayName: Example } }
  recoveryCodes: 3
`;

let idp: TestIssuer;
const clock = manualClock(Date.now() - 10 * 60_000);

beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: CONFIG, now: clock });
});
afterAll(() => idp?.close());

interface Page {
  url: string;
  status: number;
  html: string;
}

/** Follows redirects like a browser (cookies in `jar`) until a page, or the client's redirect URI. */
async function browse(jar: CookieJar, start: string, init: { form?: Record<string, string> } = {}): Promise<Page> {
  let url = start;
  let response = init.form ? await postForm(url, init.form, {}, jar) : await get(url, {}, jar);
  for (let hop = 0; response.status >= 300 && response.status < 400; hop++) {
    url = location(response, url).toString();
    if (url.startsWith('http://127.0.0.1:5555/')) return { url, status: 0, html: '' };
    if (hop > 12) throw new Error('too many redirects');
    response = await get(url, {}, jar);
  }
  return { url, status: response.status, html: await response.text() };
}

/** Posts the page's first form, with `fields` added to its hidden ones. */
function submit(jar: CookieJar, page: Page, fields: Record<string, string>, formIndex = 0): Promise<Page> {
  const form = parseForms(page.html)[formIndex]!;
  return browse(jar, new URL(form.action, page.url).toString(), { form: { ...form.fields, ...fields } });
}

function authURL(app: { id: string; redirectURI: string }, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ client_id: app.id, redirect_uri: app.redirectURI, response_type: 'code', scope: 'openid email', state: 'st', connector_id: 'local', ...params });
  return `${idp.url}/auth?${query}`;
}

/** /auth, then the password form: the page after the first factor. */
async function signInWithPassword(jar: CookieJar, app: { id: string; redirectURI: string }, user: { email: string }, params: Record<string, string> = {}): Promise<Page> {
  const form = await browse(jar, authURL(app, params));
  expect(form.html).toContain('type="password"');
  return submit(jar, form, { login: user.email, password: ADMIN.password });
}

function secretOf(page: Page): string {
  return /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(page.html)![1]!.replace(/ /g, '');
}

function codeOf(landing: Page): string {
  const url = new URL(landing.url);
  expect(url.searchParams.get('error'), url.searchParams.get('error_description') ?? '').toBeNull();
  return url.searchParams.get('code')!;
}

/** The ceremony options the passkey page hands its script. */
function webauthnOptions(page: Page): { challenge: string; rp?: { id: string }; rpId?: string } {
  const raw = /data-webauthn-options="([^"]*)"/.exec(page.html)![1]!;
  return JSON.parse(raw.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

async function rpFor(app: { id: string; secret: string }) {
  return client.discovery(new URL(idp.url), app.id, app.secret, undefined, { execute: [client.allowInsecureRequests] });
}

async function redeem(app: { id: string; secret: string; redirectURI: string }, landing: Page) {
  const rp = await rpFor(app);
  return client.authorizationCodeGrant(rp, new URL(landing.url), { expectedState: 'st', idTokenExpected: true });
}

function events(type: string) {
  return idp.audit.events.filter((event) => event.event === type);
}

/** Enrolls `user` in TOTP through the enrollment page; returns the secret and the page after the code. */
async function enrollTOTP(jar: CookieJar, user: { email: string }) {
  const enrollment = await signInWithPassword(jar, APPS.totp, user);
  expect(enrollment.url).toContain('/mfa/totp');
  const secret = secretOf(enrollment);
  const after = await submit(jar, enrollment, { totp: totpAt(secret, clock()) });
  return { enrollment, secret, after };
}

describe('TOTP', () => {
  it('enrolls after the password: a QR code and the key, a code from the app, recovery codes once, then tokens with amr and acr', async () => {
    const jar = new CookieJar();
    const [alice] = USERS;
    const { enrollment, secret, after } = await enrollTOTP(jar, alice!);
    expect(enrollment.html).toContain('Set up your authenticator app');
    expect(enrollment.html).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="QR code to add alice@example.com to an authenticator app" width="\d+" height="\d+">/);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(after.html).toContain('Save your recovery codes');
    const codes = [...after.html.matchAll(/<li><code>([a-z2-7-]{19})<\/code><\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(3);

    const landing = await browse(jar, new URL(/href="([^"]*\/mfa\?req=[^"]*)"/.exec(after.html)![1]!.replace(/&amp;/g, '&'), idp.url).toString());
    const tokens = await redeem(APPS.totp, { ...landing, url: landing.url });
    expect(tokens.claims()).toMatchObject({ sub: subjectOf(alice!.userId, 'local'), amr: ['pwd', 'otp', 'mfa'], acr: 'urn:idgate:acr:mfa' });
    expect(events('mfa_enrolled').at(-1)).toMatchObject({ outcome: 'succeeded', method: 'totp', authenticatorId: 'totp', clientId: APPS.totp.id, subject: subjectOf(alice!.userId, 'local') });
    // The secret is sealed with the rest of the record's TOTP field only when sealing is configured; it never reaches the audit.
    expect(JSON.stringify(idp.audit.events)).not.toContain(secret);
  });

  it('asks an enrolled person for a code, accepts it once, and refuses the same code again within its window', async () => {
    const jar = new CookieJar();
    const bob = USERS[1]!;
    const { secret } = await enrollTOTP(jar, bob);
    clock.advance(30_000);

    const prompt = await signInWithPassword(new CookieJar(), APPS.totp, bob);
    expect(prompt.html).toContain('Enter your code');
    const code = totpAt(secret, clock());
    const secondBrowser = new CookieJar();
    const first = await signInWithPassword(secondBrowser, APPS.totp, bob);
    const landing = await submit(secondBrowser, first, { totp: code });
    expect(codeOf(landing)).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The same code in another login, still within its 30 s (and ±1 step) window: refused.
    const thirdBrowser = new CookieJar();
    const again = await signInWithPassword(thirdBrowser, APPS.totp, bob);
    const reused = await submit(thirdBrowser, again, { totp: code });
    expect(reused.status).toBe(401);
    expect(reused.html).toContain('That code was already used');
    expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'code_reused', method: 'totp', subject: subjectOf(bob.userId, 'local') });
    expect(events('mfa_failed').at(-1)!.code).toBeUndefined();

    // An earlier step's code (still inside the drift window) is refused too: steps only move forward.
    const earlier = await submit(thirdBrowser, reused, { totp: totpAt(secret, clock() - 30_000) });
    expect(earlier.html).toContain('That code was already used');
    clock.advance(30_000);
    expect(codeOf(await submit(thirdBrowser, earlier, { totp: totpAt(secret, clock()) }))).toBeTruthy();
  });

  it('refuses a wrong code with the error tied to the field', async () => {
    const jar = new CookieJar();
    const carol = USERS[2]!;
    const { enrollment, secret } = await enrollTOTP(new CookieJar(), carol);
    expect(enrollment.status).toBe(200);
    clock.advance(30_000);
    const prompt = await signInWithPassword(jar, APPS.totp, carol);
    const wrong = String((Number(totpAt(secret, clock())) + 1) % 1_000_000).padStart(6, '0');
    const refused = await submit(jar, prompt, { totp: wrong });
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('role="alert">That code is not right');
    expect(refused.html).toContain('aria-describedby="mfa-error"');
    expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'invalid_code', outcome: 'refused' });
  });

  it('locks the person out after too many wrong codes, even with the right one', async () => {
    const dave = USERS[3]!;
    const { secret } = await enrollTOTP(new CookieJar(), dave);
    clock.advance(30_000);
    const jar = new CookieJar();
    let page = await signInWithPassword(jar, APPS.totp, dave);
    for (let attempt = 0; attempt < 5; attempt++) page = await submit(jar, page, { totp: '000000' === totpAt(secret, clock()) ? '111111' : '000000' });
    expect(page.status).toBe(401);
    expect(page.html).toContain('Too many failed attempts');
    const locked = await submit(jar, page, { totp: totpAt(secret, clock()) });
    expect(locked.status).toBe(429);
  });

  it('takes a recovery code once instead of the app', async () => {
    const erin = USERS[4]!;
    const { after } = await enrollTOTP(new CookieJar(), erin);
    const recovery = /<li><code>([a-z2-7-]{19})<\/code><\/li>/.exec(after.html)![1]!;
    const jar = new CookieJar();
    const prompt = await signInWithPassword(jar, APPS.totp, erin);
    const link = /href="([^"]*\/mfa\/recovery\?[^"]*)"/.exec(prompt.html)![1]!.replace(/&amp;/g, '&');
    const form = await browse(jar, new URL(link, idp.url).toString());
    expect(form.html).toContain('<label for="recovery_code">Recovery code</label>');
    const landing = await submit(jar, form, { recovery_code: recovery.toUpperCase().replace(/-/g, ' ') });
    const tokens = await redeem(APPS.totp, landing);
    expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'urn:idgate:acr:mfa' });
    expect(events('mfa_used').at(-1)).toMatchObject({ method: 'recovery_code' });

    // Used once: the same code in the next login is refused.
    const jar2 = new CookieJar();
    const prompt2 = await signInWithPassword(jar2, APPS.totp, erin);
    const link2 = /href="([^"]*\/mfa\/recovery\?[^"]*)"/.exec(prompt2.html)![1]!.replace(/&amp;/g, '&');
    const reused = await submit(jar2, await browse(jar2, new URL(link2, idp.url).toString()), { recovery_code: recovery });
    expect(reused.status).toBe(401);
    expect(reused.html).toContain('That code is not right');
  });
});

describe('WebAuthn', () => {
  const rpId = () => new URL(idp.url).hostname;

  /** Registers a passkey for `user` (Passkey App asks for phr); returns the authenticator and the landing. */
  async function registerPasskey(user: { email: string }) {
    const jar = new CookieJar();
    const page = await signInWithPassword(jar, APPS.passkey, user);
    expect(page.url).toContain('/mfa/webauthn');
    expect(page.html).toContain('data-webauthn-mode="create"');
    const options = webauthnOptions(page) as { challenge: string; rp: { id: string }; user: { name: string } };
    expect(options.rp.id).toBe(rpId());
    expect(options.user.name).toBe(user.email);
    const authenticator = new TestAuthenticator(rpId(), new URL(idp.url).origin);
    const codes = await submit(jar, page, { credential: authenticator.register(options) });
    expect(codes.html).toContain('Save your recovery codes');
    const landing = await browse(jar, new URL(/href="([^"]*\/mfa\?req=[^"]*)"/.exec(codes.html)![1]!.replace(/&amp;/g, '&'), idp.url).toString());
    return { authenticator, landing };
  }

  async function assertionPage(user: { email: string }) {
    const jar = new CookieJar();
    const page = await signInWithPassword(jar, APPS.passkey, user);
    expect(page.html).toContain('data-webauthn-mode="get"');
    return { jar, page, options: webauthnOptions(page) };
  }

  it('registers a passkey when the client asks for phr, and the tokens say phr with hwk', async () => {
    const frank = USERS[5]!;
    const { landing } = await registerPasskey(frank);
    const tokens = await redeem(APPS.passkey, landing);
    expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'hwk', 'mfa'], acr: 'phr' });
    expect(events('mfa_enrolled').at(-1)).toMatchObject({ method: 'webauthn', authenticatorId: 'passkey', subject: subjectOf(frank.userId, 'local') });
    const stored = await idp.storage.mfaCredentials.get(subjectOf(frank.userId, 'local'));
    expect(stored?.webauthn).toHaveLength(1);
  });

  it('signs in with the passkey, raising the stored counter, and refuses a counter that did not grow', async () => {
    const grace = USERS[6]!;
    const { authenticator } = await registerPasskey(grace);
    const id = subjectOf(grace.userId, 'local');

    const first = await assertionPage(grace);
    const landing = await submit(first.jar, first.page, { credential: authenticator.assert(first.options, { counter: 5 }) });
    expect(codeOf(landing)).toBeTruthy();
    expect((await idp.storage.mfaCredentials.get(id))?.webauthn[0]?.counter).toBe(5);

    for (const counter of [5, 3]) {
      const next = await assertionPage(grace);
      const refused = await submit(next.jar, next.page, { credential: authenticator.assert(next.options, { counter }) });
      expect(refused.status).toBe(401);
      expect(refused.html).toContain('This passkey cannot be trusted');
      expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'counter_regression', method: 'webauthn' });
      expect((await idp.storage.mfaCredentials.get(id))?.webauthn[0]?.counter).toBe(5);
    }
    const ok = await assertionPage(grace);
    expect(codeOf(await submit(ok.jar, ok.page, { credential: authenticator.assert(ok.options, { counter: 6 }) }))).toBeTruthy();
  });

  it("refuses an answer to another login's challenge, and an answer presented twice", async () => {
    const heidi = USERS[7]!;
    const { authenticator } = await registerPasskey(heidi);
    const mine = await assertionPage(heidi);
    const other = await assertionPage(heidi);
    const answerForOther = authenticator.assert(other.options);
    const refused = await submit(mine.jar, mine.page, { credential: answerForOther });
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('belongs to another sign-in');
    expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'challenge_mismatch', method: 'webauthn' });
    // The other login's own answer works once; the same answer posted again finds its challenge taken.
    expect(codeOf(await submit(other.jar, other.page, { credential: answerForOther }))).toBeTruthy();
    const again = await assertionPage(heidi);
    const replayed = await submit(again.jar, again.page, { credential: answerForOther });
    expect(replayed.status).toBe(401);
    expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'challenge_mismatch' });
  });

  it('refuses an answer made on another origin, and a passkey the account does not have', async () => {
    const ivan = USERS[8]!;
    const { authenticator } = await registerPasskey(ivan);
    const phished = await assertionPage(ivan);
    const wrongOrigin = await submit(phished.jar, phished.page, { credential: authenticator.assert(phished.options, { origin: 'https://login.example.net' }) });
    expect(wrongOrigin.status).toBe(401);
    expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'invalid_assertion' });

    const stranger = new TestAuthenticator(rpId(), new URL(idp.url).origin);
    const next = await assertionPage(ivan);
    const unknown = await submit(next.jar, next.page, { credential: stranger.assert(next.options) });
    expect(unknown.status).toBe(401);
    expect(events('mfa_failed').at(-1)).toMatchObject({ reason: 'unknown_credential' });
    // The page is shown again with a new challenge to retry.
    expect(webauthnOptions(unknown).challenge).not.toBe(next.options.challenge);
  });
});

describe('when a second factor is asked for', () => {
  it('asks for none without a chain or acr: the tokens say pwd and single-factor', async () => {
    const jar = new CookieJar();
    const landing = await signInWithPassword(jar, APPS.plain, USERS[9]!);
    const tokens = await redeem(APPS.plain, landing);
    expect(tokens.claims()).toMatchObject({ amr: ['pwd'], acr: 'urn:idgate:acr:single-factor' });
  });

  it('asks for one by acr_values, with the person choosing what to set up when they have nothing', async () => {
    const jar = new CookieJar();
    const choice = await signInWithPassword(jar, APPS.plain, USERS[9]!, { acr_values: 'urn:idgate:acr:mfa' });
    expect(choice.html).toContain('Set up a second factor');
    expect(choice.html).toContain('Use an authenticator app');
    expect(choice.html).toContain('Create a passkey');
    const enrollment = await browse(jar, new URL(/href="([^"]*\/mfa\/totp\?[^"]*)"/.exec(choice.html)![1]!.replace(/&amp;/g, '&'), idp.url).toString());
    const codes = await submit(jar, enrollment, { totp: totpAt(secretOf(enrollment), clock()) });
    const landing = await browse(jar, new URL(/href="([^"]*\/mfa\?req=[^"]*)"/.exec(codes.html)![1]!.replace(/&amp;/g, '&'), idp.url).toString());
    expect((await redeem(APPS.plain, landing)).claims()).toMatchObject({ acr: 'urn:idgate:acr:mfa' });
  });

  it('refuses a code for a login still missing its second factor (an approval posted past /mfa)', async () => {
    const jar = new CookieJar();
    const prompt = await signInWithPassword(jar, APPS.totp, USERS[10]!);
    expect(prompt.url).toContain('/mfa/totp');
    const { req, csrf_token } = parseForms(prompt.html)[0]!.fields;
    const page = await browse(jar, `${idp.url}/approval`, { form: { req: req!, csrf_token: csrf_token!, approval: 'approve' } });
    expect(page.status).toBe(403);
    expect(page.html).toContain('A second factor is needed');
    // The approval page itself sends the browser to the second factor.
    const jar2 = new CookieJar();
    const prompt2 = await signInWithPassword(jar2, APPS.totp, USERS[10]!);
    const approval = await browse(jar2, `${idp.url}/approval?req=${encodeURIComponent(parseForms(prompt2.html)[0]!.fields.req!)}`);
    expect(approval.url).toContain('/mfa/totp');
  });

  it('refuses MFA pages to another browser holding the request', async () => {
    const prompt = await signInWithPassword(new CookieJar(), APPS.totp, USERS[10]!);
    const stolen = await browse(new CookieJar(), prompt.url);
    expect(stolen.status).toBe(403);
  });

  it('refuses the password grant to a client whose logins need a second factor, before looking at the password', async () => {
    const response = await fetch(`${idp.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${APPS.totp.id}:${APPS.totp.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: ADMIN.email, password: 'wrong', scope: 'openid' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('second factor') });
  });

  it('publishes the acr values and the amr and acr claims in discovery', async () => {
    const discovery = await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json() as Record<string, string[]>;
    expect(discovery.acr_values_supported).toEqual(['urn:idgate:acr:single-factor', 'urn:idgate:acr:mfa', 'phr']);
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(['amr', 'acr']));
  });
});

describe('the device flow', () => {
  it("asks the person for the second factor the device's client needs, and the device's tokens say so", async () => {
    const peggy = USERS[13]!;
    const { secret } = await enrollTOTP(new CookieJar(), peggy);
    clock.advance(30_000);
    const client = { client_id: APPS.totp.id, client_secret: APPS.totp.secret };
    const codes = await requestDeviceCodes(idp.url, { ...client, scope: 'openid email offline_access' });
    const jar = new CookieJar();
    const codeForm = await browse(jar, codes.verification_uri_complete);
    const password = await submit(jar, codeForm, { user_code: codes.user_code });
    const prompt = await submit(jar, password, { login: peggy.email, password: ADMIN.password });
    expect(prompt.html).toContain('Enter your code');
    const approval = await submit(jar, prompt, { totp: totpAt(secret, clock()) });
    expect(approval.html).toContain('Grant access');
    const done = await submit(jar, approval, { approval: 'approve' });
    expect(done.status).toBe(200);
    const answer = await poll(idp.url, codes.device_code, client);
    expect(answer.status).toBe(200);
    const claims = JSON.parse(Buffer.from(answer.body.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'urn:idgate:acr:mfa' });
  });
});

describe('step-up in the browser\'s login session', () => {
  it('asks a password-only session for the second factor, not the password, and keeps what it passed for later clients', async () => {
    const niaj = USERS[11]!;
    const { secret } = await enrollTOTP(new CookieJar(), niaj);
    clock.advance(30_000);
    const jar = new CookieJar();
    const first = await redeem(APPS.plain, await signInWithPassword(jar, APPS.plain, niaj));
    expect(first.claims()).toMatchObject({ amr: ['pwd'], acr: 'urn:idgate:acr:single-factor' });

    const stepUp = await browse(jar, authURL(APPS.totp));
    expect(stepUp.url).toContain('/mfa/totp');
    expect(stepUp.html).toContain('Enter your code');
    expect(stepUp.html).not.toContain('type="password"');
    const stepped = await redeem(APPS.totp, await submit(jar, stepUp, { totp: totpAt(secret, clock()) }));
    expect(stepped.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'urn:idgate:acr:mfa', sid: first.claims()!.sid });

    // The session now has the second factor: a client asking for it by acr_values signs in without a page.
    const later = await browse(jar, authURL(APPS.plain, { acr_values: 'urn:idgate:acr:mfa', prompt: 'none' }));
    expect((await redeem(APPS.plain, later)).claims()).toMatchObject({ acr: 'urn:idgate:acr:mfa', sid: first.claims()!.sid });
    expect((await idp.storage.loginSessions.get(first.claims()!.sid as string))?.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('answers prompt=none with interaction_required when the session lacks the factor asked for', async () => {
    const olivia = USERS[12]!;
    const jar = new CookieJar();
    await redeem(APPS.plain, await signInWithPassword(jar, APPS.plain, olivia));
    const landing = await browse(jar, authURL(APPS.plain, { acr_values: 'urn:idgate:acr:mfa', prompt: 'none' }));
    const url = new URL(landing.url);
    expect(url.searchParams.get('error')).toBe('interaction_required');
    expect(url.searchParams.get('state')).toBe('st');
  });
});

describe('acr values nothing can meet', () => {
  let totpOnly: TestIssuer;
  beforeAll(async () => {
    totpOnly = await startTestIssuer({ configYaml: CONFIG.replace(/ {4}- \{ id: passkey, type: WebAuthn.*\n/, '').replace(', defaultACRValues: [phr]', '') });
  });
  afterAll(() => totpOnly?.close());

  it('answers unmet_authentication_requirements at /auth before any password', async () => {
    const query = new URLSearchParams({ client_id: APPS.plain.id, redirect_uri: APPS.plain.redirectURI, response_type: 'code', scope: 'openid', state: 'st', acr_values: 'phr' });
    const response = await fetch(`${totpOnly.url}/auth?${query}`, { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(location.searchParams.get('state')).toBe('st');
  });

  it('ignores acr values it does not know (acr_values is voluntary)', async () => {
    const query = new URLSearchParams({ client_id: APPS.plain.id, redirect_uri: APPS.plain.redirectURI, response_type: 'code', scope: 'openid', state: 'st', acr_values: 'urn:example:gold' });
    const response = await fetch(`${totpOnly.url}/auth?${query}`, { redirect: 'manual' });
    expect(new URL(response.headers.get('location')!, totpOnly.url).searchParams.get('error')).toBeNull();
  });
});
