/**
 * After login: the approval page (or its skip), approve/deny, and the AuthCode that is issued —
 * exactly once per auth request, stored only as its hash, with everything the token side needs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/storage/secrets.js';
import { parseForms } from '../helpers/http-login.js';
import { ADMIN, authURL, BASE_CONFIG, BROWSER, CHALLENGE, get, location, openPasswordForm, postForm, startLoginServer, WEB_APP, type LoginServer } from './harness.js';

let server: LoginServer;
beforeEach(async () => {
  server = await startLoginServer();
});
afterEach(() => server.close());

/** Logs in through the password form and returns the approval page's URL, form and HTML. */
async function loginToApproval(params: Record<string, string> = {}) {
  const { action, fields } = await openPasswordForm(server, params);
  const response = await postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password });
  const approvalURL = location(response, server.url);
  expect(approvalURL.pathname).toBe('/dex/approval');
  const html = await (await get(approvalURL.toString())).text();
  const form = parseForms(html)[0]!;
  return { approvalURL, html, action: new URL(form.action, approvalURL).toString(), fields: form.fields, authRequestId: fields.req! };
}

describe('the approval page', () => {
  it("lets its form redirect to the client: the CSP's form-action names the redirect URI's origin", async () => {
    const { approvalURL } = await loginToApproval();
    const csp = (await get(approvalURL.toString())).headers.get('content-security-policy')!;
    expect(csp).toContain("form-action 'self' https://app.example.com;");
  });

  it('names the client, the user and the scopes in words', async () => {
    const { html } = await loginToApproval({ scope: 'openid email groups offline_access' });
    expect(html).toMatch(/Web App<\/p>|Web App would like to/);
    expect(html).toMatch(/View your email address/);
    expect(html).toMatch(/View your groups/);
    expect(html).toMatch(/Stay signed in/);
    expect(html).toMatch(new RegExp(`Signed in as ${ADMIN.email}`));
  });

  it('issues a code on approve and stores only its hash, with everything the token side needs', async () => {
    const { action, fields, authRequestId } = await loginToApproval({ nonce: 'n-42', code_challenge: CHALLENGE, code_challenge_method: 'S256', scope: 'openid email groups' });
    const response = await postForm(action, { ...fields, approval: 'approve' });
    const target = location(response, server.url);
    expect(`${target.origin}${target.pathname}`).toBe(WEB_APP.redirectURI);
    expect(target.searchParams.get('state')).toBe('st-123');
    expect(target.searchParams.get('iss')).toBe(server.url);
    const code = target.searchParams.get('code')!;
    expect(Buffer.from(code, 'base64url')).toHaveLength(32);

    expect(await server.context.storage.authCodes.get(code)).toBeUndefined();
    const stored = await server.context.storage.authCodes.get(hashToken(code));
    expect(stored).toMatchObject({
      id: hashToken(code), clientId: WEB_APP.id, redirectURI: WEB_APP.redirectURI, scopes: ['openid', 'email', 'groups'],
      nonce: 'n-42', codeChallenge: CHALLENGE, codeChallengeMethod: 'S256', connectorId: 'local',
      identity: { userId: ADMIN.userId, username: 'admin', email: ADMIN.email, emailVerified: true, groups: ['admins'] },
      authTime: Math.floor(server.clock() / 1000),
    });
    // The code is of the browser's login session: its tokens will carry the session's id as sid.
    const [session] = await server.context.storage.loginSessions.list({ index: ADMIN.userId });
    expect(stored).toMatchObject({ sessionId: session!.id, loginSession: true, amr: ['pwd'] });
    expect(session!.clients.map((entry) => entry.clientId)).toEqual([WEB_APP.id]);
    expect(stored!.expiresAt - stored!.createdAt).toBe(server.context.config.expiry.authCodes);
    expect(await server.context.storage.authRequests.get(authRequestId)).toBeUndefined();
  });

  it("gives the codes of one browser its login session's id, and another browser's login another", async () => {
    const sessionOf = async (response: Response) => {
      const code = location(response, server.url).searchParams.get('code')!;
      return (await server.context.storage.authCodes.get(hashToken(code)))!.sessionId;
    };
    const first = await loginToApproval();
    const firstSession = await sessionOf(await postForm(first.action, { ...first.fields, approval: 'approve' }));
    // The same browser again: the session answers, and the consent just given is remembered.
    const again = await get(authURL(server));
    expect(await sessionOf(again)).toBe(firstSession);
    // Another browser signs in (the consent is the person's, so no approval page): a session of its own.
    BROWSER.clear();
    const other = await openPasswordForm(server);
    const signedIn = await postForm(other.action, { ...other.fields, login: ADMIN.email, password: ADMIN.password });
    expect(await sessionOf(signedIn)).not.toBe(firstSession);
  });

  it('sends access_denied (with state and iss) on deny and ends the request', async () => {
    const { action, fields, authRequestId } = await loginToApproval();
    const target = location(await postForm(action, { ...fields, approval: 'rejected' }), server.url);
    expect(target.searchParams.get('error')).toBe('access_denied');
    expect(target.searchParams.get('state')).toBe('st-123');
    expect(target.searchParams.get('iss')).toBe(server.url);
    expect(target.searchParams.get('code')).toBeNull();
    expect(await server.context.storage.authRequests.get(authRequestId)).toBeUndefined();
  });

  it('mints one code when the approval is submitted twice at once', async () => {
    const { action, fields } = await loginToApproval();
    const responses = await Promise.all(Array.from({ length: 5 }, () => postForm(action, { ...fields, approval: 'approve' })));
    const redirected = responses.filter((r) => r.status === 302);
    expect(redirected).toHaveLength(1);
    expect(responses.filter((r) => r.status === 400)).toHaveLength(4);
    expect(await responses.find((r) => r.status === 400)!.text()).toMatch(/already completed|has expired/);
    expect(await server.context.storage.authCodes.list()).toHaveLength(1);
  });

  it('refuses an approval without the CSRF token (403) and keeps the request', async () => {
    const { action, fields, authRequestId } = await loginToApproval();
    const response = await postForm(action, { req: fields.req!, approval: 'approve' });
    expect(response.status).toBe(403);
    expect(await server.context.storage.authRequests.get(authRequestId)).toBeDefined();
    expect(await server.context.storage.authCodes.list()).toHaveLength(0);
  });

  it('refuses to approve a request nobody has logged in to', async () => {
    const { fields } = await openPasswordForm(server);
    const response = await postForm(`${server.url}/approval`, { ...fields, approval: 'approve' });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Not signed in/);
    expect((await get(`${server.url}/approval?req=${fields.req}`)).status).toBe(400);
  });
});

describe('oauth2.skipApprovalScreen', () => {
  it('issues the code straight after login, and a double submit of the password form still mints one', async () => {
    await server.close();
    server = await startLoginServer({ config: `${BASE_CONFIG}oauth2: { skipApprovalScreen: true }\n` });
    const { action, fields } = await openPasswordForm(server);
    const responses = await Promise.all([1, 2, 3].map(() => postForm(action, { ...fields, login: ADMIN.email, password: ADMIN.password })));
    const codes = responses.filter((r) => r.status === 302).map((r) => location(r, server.url).searchParams.get('code'));
    expect(codes).toHaveLength(1);
    expect(codes[0]).toBeTruthy();
    expect(await server.context.storage.authCodes.list()).toHaveLength(1);
  });

  it('still shows the approval page for prompt=consent', async () => {
    await server.close();
    server = await startLoginServer({ config: `${BASE_CONFIG}oauth2: { skipApprovalScreen: true }\n` });
    await loginToApproval({ prompt: 'consent' });
  });
});

describe('the out-of-band redirect URI', () => {
  it('shows the code on a page instead of redirecting, for a public client without registered URIs', async () => {
    await server.close();
    server = await startLoginServer({ config: BASE_CONFIG.replace('staticClients:', 'staticClients:\n  - { id: cli, name: CLI, public: true }') });
    const { action, fields } = await loginToApproval({ client_id: 'cli', redirect_uri: 'urn:ietf:wg:oauth:2.0:oob', code_challenge: CHALLENGE, code_challenge_method: 'S256' });
    const response = await postForm(action, { ...fields, approval: 'approve' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const code = /<input id="code"[^>]*value="([A-Za-z0-9_-]{43})"/.exec(await response.text())![1]!;
    expect(await server.context.storage.authCodes.get(hashToken(code))).toMatchObject({ clientId: 'cli', redirectURI: 'urn:ietf:wg:oauth:2.0:oob' });
  });
});
