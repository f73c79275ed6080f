/**
 * The authorization endpoint's checks, each with its negative case. Before the client and its
 * redirect URI are known good, an error is a page (never a redirect); after, it is a redirect to the
 * client carrying error, state and iss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, authURL, BASE_CONFIG, CHALLENGE, get, location, SPA, startLoginServer, WEB_APP, type LoginServer } from '../login/harness.js';

const CONFIG = BASE_CONFIG.replace('staticClients:', `staticClients:
  - id: native
    name: Native App
    public: true
  - id: strict
    name: Strict App
    secret: c3RyaWN0LXNlY3JldA
    requirePKCE: true
    redirectURIs: [https://strict.example.com/cb?tenant=a]
  - id: trusting-api
    name: API that trusts web-app
    secret: YXBpLXNlY3JldA
    trustedPeers: [${WEB_APP.id}]
  - id: aloof-api
    name: API that trusts nobody
    secret: YWxvb2Ytc2VjcmV0
  - id: mock-only
    name: Mock only
    secret: bW9jay1vbmx5
    redirectURIs: [https://mock-only.example.com/cb]
    allowedConnectors: [mock]`) + `
connectors:
  - type: mockCallback
    id: mock
    name: Mock
  - type: mockPassword
    id: device-only
    name: Device only
    grantTypes: [urn:ietf:params:oauth:grant-type:device_code]
    config: { username: kilgore, password: trout }
`;

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer({ config: CONFIG });
});
afterAll(() => server.close());

async function expectPage(response: Response, status: number, text: RegExp): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('location')).toBeNull();
  const html = await response.text();
  expect(html).toMatch(text);
  expect(html).toMatch(/Request ID: <code>[^<]+<\/code>/);
  return html;
}

async function expectErrorRedirect(response: Response, error: string, redirectURI = WEB_APP.redirectURI): Promise<URL> {
  expect(response.status).toBe(302);
  const target = location(response, server.url);
  expect(`${target.origin}${target.pathname}`).toBe(redirectURI);
  expect(target.searchParams.get('error')).toBe(error);
  expect(target.searchParams.get('error_description')).toBeTruthy();
  expect(target.searchParams.get('state')).toBe('st-123');
  expect(target.searchParams.get('iss')).toBe(server.url);
  return target;
}

describe('check_client', () => {
  it('shows a page (no redirect) for an unknown client_id', async () => {
    await expectPage(await get(authURL(server, { client_id: 'nobody' })), 400, /Unknown application[\s\S]*unknown client &quot;nobody&quot;/);
  });
  it('shows a page when client_id is missing', async () => {
    await expectPage(await get(authURL(server, { client_id: undefined })), 400, /no client_id/);
  });
});

describe('check_redirect_uri', () => {
  it.each([
    ['a prefix of the registered URI', 'https://app.example.com/'],
    ['the registered URI with a longer path', `${WEB_APP.redirectURI}/evil`],
    ['the registered URI with a trailing slash', `${WEB_APP.redirectURI}/`],
    ['the registered URI with an extra query', `${WEB_APP.redirectURI}?x=1`],
    ['a different host', 'https://evil.example.com/callback'],
    ['another scheme', 'http://app.example.com/callback'],
    ['different letter case', 'https://APP.example.com/callback'],
  ])('shows a page, never a redirect, for %s', async (_, redirectURI) => {
    await expectPage(await get(authURL(server, { redirect_uri: redirectURI })), 400, /redirect_uri is not registered/);
  });
  it('shows a page when redirect_uri is missing', async () => {
    await expectPage(await get(authURL(server, { redirect_uri: undefined })), 400, /no redirect_uri/);
  });
  it('lets a public client without registered URIs use an http loopback URI on any port', async () => {
    const response = await get(authURL(server, { client_id: 'native', redirect_uri: 'http://127.0.0.1:49152/cb', code_challenge: CHALLENGE, code_challenge_method: 'S256' }));
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/Continue with Mock/);
  });
  it('lets such a client use the out-of-band URI, and shows its errors as pages', async () => {
    const oob = { client_id: 'native', redirect_uri: 'urn:ietf:wg:oauth:2.0:oob', code_challenge: CHALLENGE, code_challenge_method: 'S256' };
    expect((await get(authURL(server, oob))).status).toBe(200);
    await expectPage(await get(authURL(server, { ...oob, scope: 'email' })), 400, /must include &quot;openid&quot;/);
  });
  it('does not extend the loopback exception to https or other hosts', async () => {
    for (const redirectURI of ['https://127.0.0.1:49152/cb', 'http://localhost.evil.com/cb', 'http://10.0.0.1/cb']) {
      await expectPage(await get(authURL(server, { client_id: 'native', redirect_uri: redirectURI, code_challenge: CHALLENGE, code_challenge_method: 'S256' })), 400, /not registered/);
    }
  });
  it('does not give the loopback exception to a public client that registered URIs', async () => {
    await expectPage(await get(authURL(server, { client_id: SPA.id, redirect_uri: 'http://127.0.0.1:8000/cb', code_challenge: CHALLENGE, code_challenge_method: 'S256' })), 400, /not registered/);
  });
  it('keeps the query of a registered URI when redirecting', async () => {
    const response = await get(authURL(server, { client_id: 'strict', redirect_uri: 'https://strict.example.com/cb?tenant=a', response_type: 'none' }));
    const target = await expectErrorRedirect(response, 'unsupported_response_type', 'https://strict.example.com/cb');
    expect(target.searchParams.get('tenant')).toBe('a');
  });
});

describe('check_response_type', () => {
  it('redirects unsupported_response_type for anything but code (oauth2.responseTypes is [code] by default)', async () => {
    await expectErrorRedirect(await get(authURL(server, { response_type: 'none' })), 'unsupported_response_type');
    for (const responseType of ['id_token', 'code id_token', 'token']) {
      // A response type that would return tokens hears its refusal in the fragment, where it looks.
      const target = location(await get(authURL(server, { response_type: responseType })), server.url);
      expect(target.search).toBe('');
      expect(new URLSearchParams(target.hash.slice(1)).get('error')).toBe('unsupported_response_type');
    }
  });
  it('redirects invalid_request when response_type is missing', async () => {
    await expectErrorRedirect(await get(authURL(server, { response_type: undefined })), 'invalid_request');
  });
  it('refuses a response_mode other than query, fragment and form_post', async () => {
    const target = await expectErrorRedirect(await get(authURL(server, { response_mode: 'web_message' })), 'invalid_request');
    expect(target.searchParams.get('error_description')).toMatch(/response_mode "web_message" is not supported/);
  });
});

describe('check_request_object', () => {
  it('refuses request objects', async () => {
    await expectErrorRedirect(await get(authURL(server, { request: 'eyJhbGciOiJub25lIn0.e30.' })), 'invalid_request');
  });
});

describe('check_scope', () => {
  it('requires openid', async () => {
    await expectErrorRedirect(await get(authURL(server, { scope: 'email profile' })), 'invalid_scope');
  });
  it('refuses an unknown scope', async () => {
    const target = await expectErrorRedirect(await get(authURL(server, { scope: 'openid admin:everything' })), 'invalid_scope');
    expect(target.searchParams.get('error_description')).toMatch(/admin:everything/);
  });
  it('refuses an audience peer that does not trust the client', async () => {
    await expectErrorRedirect(await get(authURL(server, { scope: 'openid audience:server:client_id:aloof-api' })), 'invalid_scope');
  });
  it('refuses an audience peer that does not exist', async () => {
    await expectErrorRedirect(await get(authURL(server, { scope: 'openid audience:server:client_id:ghost' })), 'invalid_scope');
  });
  it('accepts a peer that trusts the client, and the client itself', async () => {
    const response = await get(authURL(server, { scope: `openid audience:server:client_id:trusting-api audience:server:client_id:${WEB_APP.id}` }));
    expect(response.status).toBe(200);
  });
});

describe('check_pkce', () => {
  const spa = (params: Record<string, string | undefined>) => authURL(server, { client_id: SPA.id, redirect_uri: SPA.redirectURI, ...params });
  it('requires PKCE from a public client', async () => {
    await expectErrorRedirect(await get(spa({})), 'invalid_request', SPA.redirectURI);
  });
  it('refuses plain where S256 is required', async () => {
    await expectErrorRedirect(await get(spa({ code_challenge: CHALLENGE, code_challenge_method: 'plain' })), 'invalid_request', SPA.redirectURI);
    await expectErrorRedirect(await get(spa({ code_challenge: CHALLENGE })), 'invalid_request', SPA.redirectURI);
  });
  it('refuses an unknown method and a malformed challenge', async () => {
    await expectErrorRedirect(await get(spa({ code_challenge: CHALLENGE, code_challenge_method: 'S512' })), 'invalid_request', SPA.redirectURI);
    await expectErrorRedirect(await get(spa({ code_challenge: 'short', code_challenge_method: 'S256' })), 'invalid_request', SPA.redirectURI);
  });
  it('requires PKCE from a confidential client with requirePKCE', async () => {
    const response = await get(authURL(server, { client_id: 'strict', redirect_uri: 'https://strict.example.com/cb?tenant=a' }));
    await expectErrorRedirect(response, 'invalid_request', 'https://strict.example.com/cb');
  });
  it('lets a confidential client go without PKCE when not enforced', async () => {
    expect((await get(authURL(server, {}))).status).toBe(200);
  });
  it('refuses plain from every client by default, naming it, and a challenge without a method (which means plain)', async () => {
    const plain = await expectErrorRedirect(await get(authURL(server, { code_challenge: CHALLENGE, code_challenge_method: 'plain' })), 'invalid_request');
    expect(plain.searchParams.get('error_description')).toBe('code_challenge_method "plain" is not accepted: use code_challenge_method=S256');
    const implied = await expectErrorRedirect(await get(authURL(server, { code_challenge: CHALLENGE })), 'invalid_request');
    expect(implied.searchParams.get('error_description')).toMatch(/without code_challenge_method means "plain"/);
  });
  it('lets a confidential client use plain when oauth2.pkce.allowPlain is set, and never a public one', async () => {
    const lenient = await startLoginServer({ config: `${BASE_CONFIG}oauth2: { pkce: { allowPlain: true } }\n` });
    try {
      // One connector: accepted requests go straight to it.
      expect(location(await get(authURL(lenient, { code_challenge: CHALLENGE, code_challenge_method: 'plain' })), lenient.url).pathname).toBe('/dex/auth/local');
      expect(location(await get(authURL(lenient, { code_challenge: CHALLENGE })), lenient.url).pathname).toBe('/dex/auth/local');
      const spaPlain = await get(authURL(lenient, { client_id: SPA.id, redirect_uri: SPA.redirectURI, code_challenge: CHALLENGE, code_challenge_method: 'plain' }));
      expect(location(spaPlain, lenient.url).searchParams.get('error_description')).toMatch(/"plain" is not accepted for this client/);
    } finally {
      await lenient.close();
    }
  });
  it('requires S256 from every client when oauth2.pkce.enforce is set', async () => {
    const enforced = await startLoginServer({ config: `${BASE_CONFIG}oauth2: { pkce: { enforce: true } }\n` });
    try {
      const response = await get(authURL(enforced, {}));
      expect(location(response, enforced.url).searchParams.get('error')).toBe('invalid_request');
      const plain = await get(authURL(enforced, { code_challenge: CHALLENGE, code_challenge_method: 'plain' }));
      expect(location(plain, enforced.url).searchParams.get('error')).toBe('invalid_request');
    } finally {
      await enforced.close();
    }
  });
});

describe('check_prompt and check_max_age', () => {
  it('answers prompt=none with login_required, state and iss (no SSO session)', async () => {
    await expectErrorRedirect(await get(authURL(server, { prompt: 'none' })), 'login_required');
  });
  it('refuses prompt=none combined with another value', async () => {
    await expectErrorRedirect(await get(authURL(server, { prompt: 'none login' })), 'invalid_request');
  });
  it('refuses an unknown prompt value', async () => {
    await expectErrorRedirect(await get(authURL(server, { prompt: 'sometimes' })), 'invalid_request');
  });
  it('refuses a max_age that is not a non-negative integer', async () => {
    await expectErrorRedirect(await get(authURL(server, { max_age: '-5' })), 'invalid_request');
    await expectErrorRedirect(await get(authURL(server, { max_age: 'soon' })), 'invalid_request');
  });
});

describe('check_connector', () => {
  it('redirects invalid_request for an unknown connector_id', async () => {
    await expectErrorRedirect(await get(authURL(server, { connector_id: 'nope' })), 'invalid_request');
  });
  it('refuses a connector the client does not allow', async () => {
    const response = await get(authURL(server, { client_id: 'mock-only', redirect_uri: 'https://mock-only.example.com/cb', connector_id: 'local' }));
    await expectErrorRedirect(response, 'invalid_request', 'https://mock-only.example.com/cb');
  });
  it("leaves out a connector whose grantTypes do not include authorization_code", async () => {
    await expectErrorRedirect(await get(authURL(server, { connector_id: 'device-only' })), 'invalid_request');
    expect(await (await get(authURL(server))).text()).not.toMatch(/Device only/);
  });
  it('skips the chooser when connector_id names an allowed connector', async () => {
    const response = await get(authURL(server, { connector_id: 'local' }));
    expect(response.status).toBe(302);
    expect(location(response, server.url).pathname).toBe('/dex/auth/local');
  });
  it('skips the chooser when the client allows only one connector', async () => {
    const response = await get(authURL(server, { client_id: 'mock-only', redirect_uri: 'https://mock-only.example.com/cb' }));
    expect(location(response, server.url).pathname).toBe('/dex/auth/mock');
  });
  it('shows the chooser with every allowed connector otherwise', async () => {
    const html = await (await get(authURL(server))).text();
    expect(html).toMatch(/Continue with Mock/);
    expect(html).toMatch(/Continue with Email/);
  });
});

describe('the stored AuthRequest', () => {
  it('carries state, nonce, PKCE, prompt, max_age and login_hint, with a CSRF token and the configured lifetime', async () => {
    const response = await get(authURL(server, {
      connector_id: 'local', nonce: 'n-1', code_challenge: CHALLENGE, code_challenge_method: 'S256', prompt: 'login consent', max_age: '60', login_hint: ADMIN.email,
    }));
    const id = location(response, server.url).searchParams.get('req')!;
    const stored = await server.context.storage.authRequests.get(id);
    expect(stored).toMatchObject({
      clientId: WEB_APP.id, redirectURI: WEB_APP.redirectURI, responseType: 'code', scopes: ['openid', 'email'],
      state: 'st-123', nonce: 'n-1', codeChallenge: CHALLENGE, codeChallengeMethod: 'S256', prompt: ['login', 'consent'],
      maxAge: 60, loginHint: ADMIN.email, connectorId: 'local', loggedIn: false,
    });
    expect(stored!.csrfToken.length).toBeGreaterThanOrEqual(43);
    expect(stored!.expiresAt - stored!.createdAt).toBe(server.context.config.expiry.authRequests);
  });
  it('accepts the request as a POST form too', async () => {
    const response = await fetch(`${server.url}/auth`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: WEB_APP.id, redirect_uri: WEB_APP.redirectURI, response_type: 'code', scope: 'openid', connector_id: 'local' }),
    });
    expect(location(response, server.url).pathname).toBe('/dex/auth/local');
  });
  it('refuses a parameter given twice, as a page', async () => {
    await expectPage(await get(`${authURL(server)}&client_id=other`), 400, /more than once/);
  });
});
