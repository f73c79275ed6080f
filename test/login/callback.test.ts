/**
 * Callback and SAML connectors through the login routes: mockCallback end to end, the callback
 * bound to its auth request and connector, SAML's auto-POST page and ACS, SP metadata, and how
 * connector errors read.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, type CallbackConnector, type SAMLConnector } from '../../src/connector.js';
import type { OpenConnector } from '../../src/oidc/context.js';
import { hashToken } from '../../src/storage/secrets.js';
import { parseForms } from '../helpers/http-login.js';
import { authURL, BASE_CONFIG, BROWSER, get, location, postForm, startLoginServer, WEB_APP, type LoginServer } from './harness.js';

const CONFIG = `${BASE_CONFIG}oauth2: { skipApprovalScreen: true }
connectors:
  - type: mockCallback
    id: mock
    name: Mock
`;

const samlCalls: Array<{ samlResponse: string; authRequestId: string }> = [];
const fakeSaml: SAMLConnector = {
  kind: 'saml',
  async postData(_scopes, authRequestId) {
    return { ssoURL: 'https://idp.example.org/sso', samlRequest: `REQ-${authRequestId}`, requestId: 'id-1' };
  },
  async handlePost(_scopes, samlResponse, authRequestId) {
    samlCalls.push({ samlResponse, authRequestId });
    if (samlResponse === 'replayed') throw new ConnectorError('replay', 'assertion id-7 was already used');
    return { userId: 'saml-1', username: 'Sam L', email: 'sam@example.org', emailVerified: true };
  },
  metadata: () => '<EntityDescriptor entityID="idgate"/>',
};

function failingCallback(error: ConnectorError): CallbackConnector {
  return {
    kind: 'callback',
    async loginURL(_scopes, callbackURL, state) {
      return { url: `${callbackURL}?state=${state}` };
    },
    async handleCallback() {
      throw error;
    },
  };
}

const extras: OpenConnector[] = [
  { id: 'saml', type: 'saml', name: 'Corp SSO', connector: fakeSaml },
  { id: 'down', type: 'oidc', name: 'login.down.example', connector: failingCallback(new ConnectorError('upstream_unavailable', 'connect ECONNREFUSED')) },
  { id: 'groups', type: 'oidc', name: 'Groups IdP', connector: failingCallback(new ConnectorError('not_in_allowed_groups', 'user is in none of [ops]')) },
  { id: 'declined', type: 'oidc', name: 'Declining IdP', connector: failingCallback(new ConnectorError('access_denied', 'user said no')) },
  { id: 'bad', type: 'oidc', name: 'Bad IdP', connector: failingCallback(new ConnectorError('invalid_response', 'the ID token signature did not verify')) },
];

let server: LoginServer;
beforeAll(async () => {
  server = await startLoginServer({ config: CONFIG, extraConnectors: extras });
});
afterAll(() => server.close());
// Each test is a browser of its own: the login session one test starts would answer the next one's /auth.
afterEach(() => BROWSER.clear());

/** /auth with connector_id, then /auth/{connector}: returns the response of the connector start. */
async function start(connectorId: string, params: Record<string, string> = {}) {
  const first = await get(authURL(server, { connector_id: connectorId, ...params }));
  const startURL = location(first, server.url);
  return { response: await get(startURL.toString()), authRequestId: startURL.searchParams.get('req')! };
}

describe('mockCallback', () => {
  it('logs in as Kilgore Trout through /callback/mock and issues a code', async () => {
    const { response, authRequestId } = await start('mock', { scope: 'openid groups' });
    const callback = location(response, server.url);
    expect(callback.pathname).toBe('/dex/callback/mock');
    expect(callback.searchParams.get('state')).toBe(authRequestId);
    const done = location(await get(callback.toString()), server.url);
    expect(`${done.origin}${done.pathname}`).toBe(WEB_APP.redirectURI);
    const code = await server.context.storage.authCodes.get(hashToken(done.searchParams.get('code')!));
    expect(code!.identity).toEqual({ userId: '0-385-28089-0', username: 'Kilgore Trout', email: 'kilgore@kilgore.trout', emailVerified: true, groups: ['authors'] });
    expect(Buffer.from(code!.connectorData!, 'base64').toString()).toBe('foobar');
  });

  it('accepts the callback as a form_post too, collected by the same browser at /callback/mock/finish', async () => {
    const { response, authRequestId } = await start('mock');
    const callback = location(response, server.url);
    const parked = await postForm(`${server.url}/callback/mock`, { state: callback.searchParams.get('state')! });
    expect(parked.status).toBe(303);
    const finish = location(parked, server.url);
    expect(finish.pathname).toBe('/dex/callback/mock/finish');
    expect(finish.searchParams.get('req')).toBe(authRequestId);
    const done = await get(finish.toString());
    expect(location(done, server.url).searchParams.get('code')).toBeTruthy();
  });

  it('shows a readable page for an unknown or expired state', async () => {
    const response = await get(`${server.url}/callback/mock?state=forged`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/This sign-in link has expired/);
  });

  it('refuses a callback on a different connector than the request started with', async () => {
    const { response } = await start('mock');
    const state = location(response, server.url).searchParams.get('state')!;
    const wrong = await get(`${server.url}/callback/down?state=${state}`);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/different sign-in method/);
  });
});

describe('connector errors as pages', () => {
  async function callbackOf(connectorId: string): Promise<Response> {
    const { response } = await start(connectorId);
    return get(location(response, server.url).toString());
  }

  it('upstream_unavailable: 502 "did not answer", naming the service, without internals', async () => {
    const response = await callbackOf('down');
    expect(response.status).toBe(502);
    const html = await response.text();
    expect(html).toMatch(/The sign-in service at login\.down\.example did not answer/);
    expect(html).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
  });

  it('not_in_allowed_groups: 403 "not in a group allowed"', async () => {
    const response = await callbackOf('groups');
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/You are not in a group allowed to use this application/);
  });

  it('invalid_response: 400 with the reason', async () => {
    const response = await callbackOf('bad');
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/the ID token signature did not verify/);
  });

  it('access_denied upstream: redirects access_denied to the client', async () => {
    const target = location(await callbackOf('declined'), server.url);
    expect(target.searchParams.get('error')).toBe('access_denied');
    expect(target.searchParams.get('state')).toBe('st-123');
  });

  it('audits each failure with its code', async () => {
    await callbackOf('groups');
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'login', connectorId: 'groups', outcome: 'refused', reason: 'not_in_allowed_groups' });
  });
});

describe('SAML', () => {
  it('sends the browser to the IdP with an auto-POST page (SAMLRequest + RelayState) allowed by the CSP', async () => {
    const { response, authRequestId } = await start('saml');
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("form-action 'self' https://idp.example.org");
    expect(csp).toContain("script-src 'self'");
    const form = parseForms(await response.text())[0]!;
    expect(form).toMatchObject({ action: 'https://idp.example.org/sso', method: 'POST' });
    expect(form.fields).toEqual({ SAMLRequest: `REQ-${authRequestId}`, RelayState: authRequestId });
    expect(form.buttons[0]!.value).toMatch(/Continue/);
  });

  it('takes the SAMLResponse at /callback/saml and passes the RelayState auth request to the connector', async () => {
    const { authRequestId } = await start('saml');
    const response = await postForm(`${server.url}/callback/saml`, { SAMLResponse: 'PHNhbWxwOlJlc3BvbnNl', RelayState: authRequestId });
    expect(samlCalls.at(-1)).toEqual({ samlResponse: 'PHNhbWxwOlJlc3BvbnNl', authRequestId });
    const done = await get(location(response, server.url).toString());
    expect(location(done, server.url).searchParams.get('code')).toBeTruthy();
  });

  it('shows a replayed response as a 400 page', async () => {
    const { authRequestId } = await start('saml');
    const response = await postForm(`${server.url}/callback/saml`, { SAMLResponse: 'replayed', RelayState: authRequestId });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/already used: assertion id-7 was already used/);
  });

  it('refuses a SAMLResponse whose RelayState names no auth request', async () => {
    const response = await postForm(`${server.url}/callback/saml`, { SAMLResponse: 'x', RelayState: 'nope' });
    expect(response.status).toBe(400);
  });

  it('serves SP metadata at /saml/{connector}/metadata, and 404 for other connectors', async () => {
    const response = await get(`${server.url}/saml/saml/metadata`);
    expect(response.headers.get('content-type')).toMatch(/application\/samlmetadata\+xml/);
    expect(await response.text()).toBe('<EntityDescriptor entityID="idgate"/>');
    expect((await get(`${server.url}/saml/mock/metadata`)).status).toBe(404);
  });
});

describe('/auth/{connector}', () => {
  it('offers the chooser again for a request under way (/auth?req=…)', async () => {
    const { authRequestId } = await start('mock');
    const response = await get(`${server.url}/auth?req=${authRequestId}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/Continue with Corp SSO/);
    expect(html).toContain(`/dex/auth/local?req=${authRequestId}`);
  });

  it('forgets an earlier login when another connector is started on the same request', async () => {
    const { authRequestId: stateAfterMock } = await start('mock');
    await server.context.storage.authRequests.update(stateAfterMock, (current) => ({
      ...current, loggedIn: true, identity: { userId: 'someone', username: 'someone' }, authTime: 1,
    }));
    await get(`${server.url}/auth/local?req=${stateAfterMock}`);
    const stored = await server.context.storage.authRequests.get(stateAfterMock);
    expect(stored).toMatchObject({ connectorId: 'local', loggedIn: false });
    expect(stored!.identity).toBeUndefined();
  });

  it('refuses an unknown connector with a page', async () => {
    const first = await get(authURL(server));
    const html = await first.text();
    const req = /req=([A-Za-z0-9_-]+)/.exec(html)![1]!;
    const response = await get(`${server.url}/auth/ghost?req=${req}`);
    expect(response.status).toBe(404);
    expect(await response.text()).toMatch(/Unknown sign-in method/);
  });
});
