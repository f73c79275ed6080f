/**
 * The password form: pre-fill, CSRF, wrong credentials, expiry of the auth request, throttling per
 * user and per client IP, and what is counted and audited (never the password).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseForms } from '../helpers/http-login.js';
import { ADMIN, BASE_CONFIG, get, location, openPasswordForm, postForm, startLoginServer, WEB_APP, type LoginServer } from './harness.js';

const CONFIG = `${BASE_CONFIG}oauth2: { skipApprovalScreen: true }
login: { throttle: { maxFailures: 3, window: 10m, lockout: 5m } }
`;

let server: LoginServer;
beforeEach(async () => {
  server = await startLoginServer({ config: CONFIG });
});
afterEach(() => server.close());

describe('the password form', () => {
  it('pre-fills the username from login_hint and focuses the password', async () => {
    const { html } = await openPasswordForm(server, { login_hint: ADMIN.email });
    expect(html).toMatch(new RegExp(`<input id="login"[^>]*value="${ADMIN.email}"`));
    expect(html).toMatch(/<input id="password"[^>]*autofocus/);
    expect(html).toMatch(/<label for="login">Email address<\/label>/);
    expect(html).toMatch(/autocomplete="current-password"/);
  });

  it('escapes what the client sent (login_hint) instead of rendering it', async () => {
    const { html } = await openPasswordForm(server, { login_hint: '"><script>alert(1)</script>' });
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('logs in with the right password and redirects to the client with code, state and iss', async () => {
    const { action, fields } = await openPasswordForm(server);
    const response = await postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password });
    const target = location(response, server.url);
    expect(`${target.origin}${target.pathname}`).toBe(WEB_APP.redirectURI);
    expect(target.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(target.searchParams.get('state')).toBe('st-123');
    expect(target.searchParams.get('iss')).toBe(server.url);
  });

  it('shows the form again with an error tied to both fields on a wrong password', async () => {
    const { action, fields } = await openPasswordForm(server);
    const response = await postForm(action, { ...fields, login: ADMIN.email, password: 'wrong' });
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toMatch(/<p class="error" id="login-error" role="alert">Incorrect email address or password\.<\/p>/);
    expect(html).toMatch(/<input id="login"[^>]*aria-invalid="true" aria-describedby="login-error"/);
    expect(html).toMatch(/<input id="password"[^>]*aria-invalid="true" aria-describedby="login-error"/);
    expect(html).toMatch(new RegExp(`value="${ADMIN.email}"`));
  });

  it('asks for both fields when one is empty, without asking the connector', async () => {
    const { action, fields } = await openPasswordForm(server);
    const response = await postForm(action, { ...fields, login: ADMIN.email, password: '' });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Enter your email address and password/);
    expect(server.audit.events).toHaveLength(0);
  });
});

describe('CSRF protection', () => {
  it('refuses a post without the token with a 403 page', async () => {
    const { action, fields } = await openPasswordForm(server);
    const { csrf_token: _dropped, ...withoutToken } = fields;
    const response = await postForm(action, { ...withoutToken, login: ADMIN.email, password: ADMIN.password });
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/security token/);
  });

  it('refuses a post with a wrong token (or the token of another request)', async () => {
    const first = await openPasswordForm(server);
    const second = await openPasswordForm(server);
    for (const token of ['x'.repeat(43), second.fields.csrf_token!]) {
      const response = await postForm(first.action, { ...first.fields, csrf_token: token, login: ADMIN.email, password: ADMIN.password });
      expect(response.status).toBe(403);
    }
  });
});

describe('auth request lifetime', () => {
  it('shows a readable page once the auth request has expired', async () => {
    const { action, fields } = await openPasswordForm(server);
    server.clock.advance(server.context.config.expiry.authRequests + 1);
    const response = await postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/This sign-in link has expired/);
  });

  it('shows the same page for an unknown request id', async () => {
    const response = await get(`${server.url}/auth/local/login?req=does-not-exist`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/unknown or has expired/);
  });
});

describe('throttling (login.throttle)', () => {
  async function attempt(login: string, password: string): Promise<Response> {
    const { action, fields } = await openPasswordForm(server);
    return postForm(action, { ...fields, login, password });
  }

  it('locks a user after maxFailures failures, even with the right password, and says for how long', async () => {
    for (let i = 0; i < 2; i++) expect((await attempt(ADMIN.email, 'wrong')).status).toBe(401);
    const third = await attempt(ADMIN.email, 'wrong');
    expect(third.status).toBe(429);
    expect(await third.text()).toMatch(/Too many failed attempts\. Try again in 5 minutes\./);
    const correct = await attempt(ADMIN.email, ADMIN.password);
    expect(correct.status).toBe(429);
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'login', outcome: 'refused', reason: 'throttled' });
  });

  it('unlocks after the lockout', async () => {
    for (let i = 0; i < 3; i++) await attempt(ADMIN.email, 'wrong');
    server.clock.advance(5 * 60_000 + 1);
    const response = await attempt(ADMIN.email, ADMIN.password);
    expect(response.status).toBe(302);
  });

  it('forgets failures older than the window', async () => {
    for (let i = 0; i < 2; i++) await attempt(ADMIN.email, 'wrong');
    server.clock.advance(10 * 60_000 + 1);
    expect((await attempt(ADMIN.email, 'wrong')).status).toBe(401);
  });

  it('locks a client IP that fails across many usernames', async () => {
    for (const user of ['a@example.com', 'b@example.com', 'c@example.com']) await attempt(user, 'guess');
    const response = await attempt('d@example.com', 'guess');
    expect(response.status).toBe(429);
  });

  it('ignores a forwarded-for header from a client that is not a trusted proxy', async () => {
    const fail = async (user: string, ip: string) => {
      const { action, fields } = await openPasswordForm(server);
      return postForm(action, { ...fields, login: user, password: 'x' }, { 'x-forwarded-for': ip });
    };
    for (const [user, ip] of [['a@x.io', '192.0.2.1'], ['b@x.io', '192.0.2.2'], ['c@x.io', '192.0.2.3']]) await fail(user!, ip!);
    expect((await fail('d@x.io', '192.0.2.4')).status).toBe(429);
  });

  it('counts the IP from web.clientRemoteIP.header only behind a trusted proxy', async () => {
    await server.close();
    server = await startLoginServer({
      config: `${CONFIG}`.replace('web: { http: 127.0.0.1:0 }', 'web: { http: 127.0.0.1:0, clientRemoteIP: { header: X-Forwarded-For, trustedProxies: [127.0.0.0/8] } }'),
    });
    const fail = async (user: string, ip: string) => {
      const { action, fields } = await openPasswordForm(server);
      return postForm(action, { ...fields, login: user, password: 'x' }, { 'x-forwarded-for': ip });
    };
    for (const user of ['a@x.io', 'b@x.io', 'c@x.io']) await fail(user, '203.0.113.7');
    expect((await fail('d@x.io', '203.0.113.7')).status).toBe(429);
    expect((await fail('e@x.io', '198.51.100.9')).status).toBe(401);
  });

  it('takes the right-most hop that is not a trusted proxy: addresses the client wrote in front of it do not count', async () => {
    await server.close();
    server = await startLoginServer({
      config: `${CONFIG}`.replace('web: { http: 127.0.0.1:0 }', 'web: { http: 127.0.0.1:0, clientRemoteIP: { header: X-Forwarded-For, trustedProxies: [127.0.0.0/8, 10.0.0.0/8] } }'),
    });
    const fail = async (user: string, forwardedFor: string) => {
      const { action, fields } = await openPasswordForm(server);
      return postForm(action, { ...fields, login: user, password: 'x' }, { 'x-forwarded-for': forwardedFor });
    };
    // The same client (203.0.113.7, behind the trusted 10.0.0.2) writes a new fake address in front each time.
    for (const [user, fake] of [['a@x.io', '192.0.2.1'], ['b@x.io', '192.0.2.2'], ['c@x.io', '192.0.2.3']]) await fail(user!, `${fake!}, 203.0.113.7, 10.0.0.2`);
    expect((await fail('d@x.io', '192.0.2.4, 203.0.113.7, 10.0.0.2')).status).toBe(429);
    // A garbage entry stops the walk: the trusted hop right of it is taken, not the address the client put left of it.
    expect((await fail('e@x.io', '203.0.113.7, not-an-ip, 10.0.0.2')).status).toBe(401);
  });

  it('locks a user whose failures come from many addresses', async () => {
    await server.close();
    server = await startLoginServer({
      config: `${CONFIG}`.replace('web: { http: 127.0.0.1:0 }', 'web: { http: 127.0.0.1:0, clientRemoteIP: { header: X-Forwarded-For, trustedProxies: [127.0.0.1] } }'),
    });
    const fail = async (ip: string) => {
      const { action, fields } = await openPasswordForm(server);
      return postForm(action, { ...fields, login: ADMIN.email, password: 'x' }, { 'x-forwarded-for': ip });
    };
    for (const ip of ['192.0.2.1', '192.0.2.2']) expect((await fail(ip)).status).toBe(401);
    expect((await fail('192.0.2.3')).status).toBe(429);
    expect((await fail('192.0.2.4')).status).toBe(429);
  });
});

describe('metrics and audit', () => {
  it('counts and audits failures and successes without the password', async () => {
    const wrong = await openPasswordForm(server);
    await postForm(wrong.action, { ...wrong.fields, login: ADMIN.email, password: 'hunter2-wrong' });
    const right = await openPasswordForm(server);
    await postForm(right.action, { ...right.fields, login: ADMIN.email, password: ADMIN.password });
    expect(server.audit.events.filter((event) => event.event === 'login')).toEqual([
      { event: 'login', connectorId: 'local', clientId: WEB_APP.id, user: ADMIN.email, outcome: 'refused', reason: 'invalid_credentials' },
      { event: 'login', connectorId: 'local', clientId: WEB_APP.id, user: ADMIN.email, outcome: 'succeeded', subject: expect.any(String) },
    ]);
    // The success started the browser's login session, audited without anything secret.
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'session_created', outcome: 'succeeded', clientId: WEB_APP.id, userId: ADMIN.userId, amr: ['pwd'] });
    expect(JSON.stringify(server.audit.events)).not.toMatch(/hunter2|"password"/);
    const metrics = await server.context.metrics.registry.getSingleMetricAsString('idgate_logins_total');
    expect(metrics).toMatch(/idgate_logins_total\{connector="local",result="failure"\} 1/);
    expect(metrics).toMatch(/idgate_logins_total\{connector="local",result="success"\} 1/);
  });
});

describe('the chooser link', () => {
  it('offers "use another sign-in method" only when there is another', async () => {
    const { html } = await openPasswordForm(server);
    expect(parseForms(html)).toHaveLength(1);
    expect(html).not.toMatch(/Use another sign-in method/);
  });
});

describe('another password connector (mockPassword)', () => {
  it("labels the field with the connector's prompt and logs in as the connector's user", async () => {
    await server.close();
    server = await startLoginServer({ config: `${CONFIG.replace('enablePasswordDB: true', 'enablePasswordDB: false')}connectors:
  - { type: mockPassword, id: mockpw, name: Mock password, config: { username: kilgore, password: trout } }
` });
    const { html, action, fields } = await openPasswordForm(server);
    expect(html).toMatch(/<label for="login">Username<\/label>/);
    const wrong = await postForm(action, { ...fields, login: 'kilgore', password: 'salmon' });
    expect(await wrong.text()).toMatch(/Incorrect username or password\./);
    const response = await postForm(action, { ...fields, login: 'kilgore', password: 'trout' });
    expect(location(response, server.url).searchParams.get('code')).toBeTruthy();
    expect(server.audit.events.filter((event) => event.event === 'login').at(-1)).toMatchObject({ connectorId: 'mockpw', outcome: 'succeeded', user: 'kilgore@kilgore.trout' });
  });
});
