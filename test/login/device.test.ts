/**
 * The person's side of the device flow over HTTP, as a browser without JavaScript: the code form in
 * the login theme with its CSRF protection, how typed codes are read, wrong codes throttled per client
 * IP, the approval page always shown, and /device/callback settling a request only with the login that
 * its latest code entry started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { hashToken } from '../../src/storage/secrets.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { actAsPerson, EXAMPLE_CLIENT, poll, postForm, requestDeviceCodes } from '../helpers/device.js';
import { followLogin, parseForms } from '../helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

let idp: TestIssuer;
const clock = manualClock(Date.now());

beforeAll(async () => {
  const web = 'web:\n  http: 127.0.0.1:0\n  clientRemoteIP:\n    header: X-Forwarded-For\n    trustedProxies: [127.0.0.1]\n';
  idp = await startTestIssuer({ now: clock, configYaml: DEFAULT_TEST_CONFIG.replace('web:\n  http: 127.0.0.1:0\n', web) });
});
afterAll(async () => {
  await idp?.close();
});

/** A browser: keeps cookies, never follows redirects by itself; `ip` is what the trusted proxy forwards. */
function browser(ip = '192.0.2.1', issuer = idp.url) {
  const jar = new CookieJar();
  const send = async (url: string, init: RequestInit = {}) => {
    const cookie = jar.header(url);
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { accept: 'text/html', 'x-forwarded-for': ip, ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
    });
    jar.store(url, response);
    return response;
  };
  return {
    jar,
    get: (url: string) => send(url),
    post: (url: string, form: Record<string, string>) =>
      send(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    /** Opens the code form and submits `typed` with the form's own CSRF token. */
    async enter(typed: string): Promise<Response> {
      const page = await send(`${issuer}/device`);
      const form = parseForms(await page.text())[0]!;
      return this.post(new URL(form.action, issuer).toString(), { ...form.fields, user_code: typed });
    },
  };
}

async function textOf(response: Response): Promise<string> {
  return (await response.text()).replace(/\s+/g, ' ');
}

describe('the code form', () => {
  it('renders in the login theme, pre-filled from verification_uri_complete, with a CSRF token double-submitted in a cookie', async () => {
    const response = await fetch(`${idp.url}/device?user_code=BCDF-GHJK`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('idgate_device_csrf='))!;
    expect(cookie).toMatch(/; Path=\/dex\/device; HttpOnly; SameSite=Lax$/);
    const html = await response.text();
    expect(html).toContain('<title>Connect a device · idgate</title>');
    expect(html).toContain('<link rel="stylesheet" href="/dex/static/style.css">');
    const [form] = parseForms(html);
    expect(form).toMatchObject({ action: '/dex/device/auth/verify_code', method: 'POST' });
    expect(form!.inputs.find((input) => input.name === 'user_code')!.value).toBe('BCDF-GHJK');
    expect(form!.fields.csrf_token).toBe(cookie.split(';')[0]!.split('=')[1]);
  });

  it('escapes whatever the query pre-fills', async () => {
    const html = await (await fetch(`${idp.url}/device?user_code=${encodeURIComponent('"><script>alert(1)</script>')}`)).text();
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('refuses a wrong CSRF token or a missing cookie with a 403 page, before reading the code', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const person = browser();
    await person.get(`${idp.url}/device`);
    const wrong = await person.post(`${idp.url}/device/auth/verify_code`, { csrf_token: 'A'.repeat(43), user_code: codes.user_code });
    expect(wrong.status).toBe(403);
    expect(await textOf(wrong)).toContain('The form could not be accepted');
    const page = parseForms(await (await fetch(`${idp.url}/device`)).text())[0]!;
    const noCookie = await postForm(`${idp.url}/device/auth/verify_code`, { ...page.fields, user_code: codes.user_code });
    expect(noCookie.status).toBe(403);
    expect((await idp.storage.deviceRequests.get(hashToken(codes.device_code)))!.callbackSecretHash).toBeUndefined();
  });

  it('reads the code case-, dash- and space-insensitively', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const bare = codes.user_code.replace('-', '');
    for (const typed of [codes.user_code.toLowerCase(), bare, ` ${bare.slice(0, 4)} ${bare.slice(4)} `]) {
      const answer = await browser().enter(typed);
      expect(answer.status, typed).toBe(200);
      expect(await textOf(answer)).toContain('Continue with Email');
    }
  });

  it('throttles wrong codes per client IP: a 429 page, even for a right code, while another IP goes on', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const guesser = browser('203.0.113.7');
    const statuses: number[] = [];
    for (const guess of ['BBBB-BBBB', 'CCCC-CCCC', 'DDDD-DDDD', 'FFFF-FFFF', 'GGGG-GGGG']) statuses.push((await guesser.enter(guess)).status);
    expect(statuses).toEqual([400, 400, 400, 400, 429]);
    const locked = await guesser.enter(codes.user_code);
    expect(locked.status).toBe(429);
    expect(await textOf(locked)).toMatch(/Too many wrong codes\. Try again in 5 minutes\./);
    expect((await browser('198.51.100.9').enter(codes.user_code)).status).toBe(200);
    const reasons = idp.audit.events.filter((e) => e.event === 'device_user_code').slice(-7).map((e) => `${e.outcome}:${e.reason ?? ''}`);
    expect(reasons).toEqual([...Array(5).fill('refused:invalid_user_code'), 'refused:throttled', 'succeeded:']);
    clock.advance(5 * 60_000);
  });

  it('says when a code has expired or was answered, without counting it as a guess', async () => {
    const used = await requestDeviceCodes(idp.url);
    await actAsPerson(idp.url, used.verification_uri_complete, { deny: true });
    const expired = await requestDeviceCodes(idp.url);
    clock.advance(5 * 60_000);
    const person = browser('203.0.113.20');
    const failuresBefore = (await idp.storage.loginFailures.list()).length;
    const late = await person.enter(expired.user_code);
    expect(late.status).toBe(400);
    expect(await textOf(late)).toContain('That code has expired');
    const again = await person.enter(used.user_code);
    expect(await textOf(again)).toContain('That code was already used');
    expect((await idp.storage.loginFailures.list()).length).toBe(failuresBefore);
  });
});

describe('the login a code starts', () => {
  it('always shows the approval page, naming the client and what it asks for (even with skipApprovalScreen)', async () => {
    const codes = await requestDeviceCodes(idp.url, { ...EXAMPLE_CLIENT, scope: 'openid email groups offline_access' });
    const pages: string[] = [];
    const callback = await followLogin(codes.verification_uri_complete, {
      redirectURI: `${idp.url}/device/callback`, connector: 'local', username: ADMIN.email, password: ADMIN.password,
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        pages.push(await response.clone().text());
        return response;
      },
    });
    const approval = pages.find((html) => html.includes('Grant access'))!.replace(/\s+/g, ' ');
    expect(approval).toContain('Example App would like to:');
    expect(approval).toContain('View your email address');
    expect(approval).toContain('View your groups');
    expect(approval).toContain('Signed in as admin@example.com');
    const done = await fetch(callback);
    expect(await textOf(done)).toContain('Example App on your device is signed in.</p> <p>You may return to your device');
    const approved = idp.audit.events.filter((e) => e.event === 'device_approved').at(-1);
    expect(approved).toMatchObject({ outcome: 'succeeded', clientId: 'example-app', connectorId: 'local', subject: expect.any(String) });
    expect(idp.audit.events.some((e) => e.event === 'consent_given' && e.clientId === 'example-app')).toBe(true);
  });

  it('records a denial: the device hears access_denied, the audit device_denied', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const done = await actAsPerson(idp.url, codes.verification_uri_complete, { deny: true });
    expect(done.html.replace(/\s+/g, ' ')).toContain('Example App on your device was not given access');
    expect(idp.audit.events.filter((e) => e.event === 'device_denied').at(-1)).toMatchObject({ outcome: 'refused', reason: 'access_denied' });
    expect((await poll(idp.url, codes.device_code)).body.error).toBe('access_denied');
  });

  it('lets only the latest code entry settle the request', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const login = { redirectURI: `${idp.url}/device/callback`, connector: 'local', username: ADMIN.email, password: ADMIN.password };
    const first = await followLogin(codes.verification_uri_complete, login);
    const second = await followLogin(codes.verification_uri_complete, login);
    const stale = await fetch(first);
    expect(stale.status).toBe(400);
    expect(await textOf(stale)).toContain('The code was entered again');
    expect((await fetch(second)).status).toBe(200);
  });

  it('settles a request only with its own login\'s code: a code of another login or a forged state is refused', async () => {
    const login = { redirectURI: `${idp.url}/device/callback`, connector: 'local', username: ADMIN.email, password: ADMIN.password };
    const a = await requestDeviceCodes(idp.url);
    const b = await requestDeviceCodes(idp.url);
    const callbackA = await followLogin(a.verification_uri_complete, login);
    const callbackB = await followLogin(b.verification_uri_complete, login);
    const mixed = new URL(callbackB);
    mixed.searchParams.set('code', callbackA.searchParams.get('code')!);
    expect((await fetch(mixed)).status).toBe(400);
    const [userCodeHash] = callbackB.searchParams.get('state')!.split('.');
    const forgedDenial = new URL(`${idp.url}/device/callback`);
    forgedDenial.searchParams.set('error', 'access_denied');
    forgedDenial.searchParams.set('state', `${userCodeHash}.${'A'.repeat(43)}`);
    expect((await fetch(forgedDenial)).status).toBe(400);
    expect((await idp.storage.deviceRequests.get(hashToken(a.device_code)))!.status).toBe('pending');
    expect((await fetch(callbackB)).status).toBe(200);
    expect((await poll(idp.url, b.device_code)).status).toBe(200);
  });

  it('never lets the client redeem the login\'s code at /token', async () => {
    const codes = await requestDeviceCodes(idp.url);
    const callback = await followLogin(codes.verification_uri_complete, {
      redirectURI: `${idp.url}/device/callback`, connector: 'local', username: ADMIN.email, password: ADMIN.password,
    });
    const [, secret] = callback.searchParams.get('state')!.split('.');
    const redeemed = await postForm(`${idp.url}/token`, {
      grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: `${idp.url}/device/callback`,
      code_verifier: secret!, ...EXAMPLE_CLIENT,
    });
    expect(redeemed.status).toBe(400);
    expect(((await redeemed.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('offers only the connectors that serve the device grant (connectors[].grantTypes)', async () => {
    const config = DEFAULT_TEST_CONFIG.replace('    id: mock\n', '    id: mock\n    grantTypes: [authorization_code]\n');
    const other = await startTestIssuer({ configYaml: config });
    try {
      const codes = await requestDeviceCodes(other.url);
      const person = browser('192.0.2.1', other.url);
      const entered = await person.enter(codes.user_code);
      expect(entered.status).toBe(303);
      const location = entered.headers.get('location')!;
      expect(location).toMatch(/^\/dex\/auth\/local\?req=/);
      const mock = await person.get(new URL(location.replace('/auth/local?', '/auth/mock?'), other.url).toString());
      expect(mock.status).toBe(403);
    } finally {
      await other.close();
    }
  });

  it('shows a page for a callback that names no request', async () => {
    const response = await fetch(`${idp.url}/device/callback?state=nothing.here&code=x`);
    expect(response.status).toBe(400);
    expect(await textOf(response)).toContain('Unknown device code');
  });
});
