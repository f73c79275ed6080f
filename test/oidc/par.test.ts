/**
 * Pushed authorization requests (RFC 9126) end to end: openid-client's buildAuthorizationUrlWithPAR
 * pushes to the advertised endpoint and logs in through the request_uri; the pushed request is checked
 * at push time, single-use, short-lived and bound to its client; requirePushedAuthorizationRequests
 * (per client and global) refuses a request sent straight to /auth.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, ADMIN_PASSWORD_DB, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const PAR_APP = { id: 'par-app', secret: 'cGFyLWFwcC1zZWNyZXQ', redirectURI: 'http://127.0.0.1:5555/par/callback' };

const CONFIG = `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2: { skipApprovalScreen: true }
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
  - id: ${PUBLIC_APP.id}
    name: Public App
    public: true
    redirectURIs: [${PUBLIC_APP.redirectURI}]
  - id: ${PAR_APP.id}
    name: PAR App
    secret: ${PAR_APP.secret}
    redirectURIs: [${PAR_APP.redirectURI}]
    requirePushedAuthorizationRequests: true
${ADMIN_PASSWORD_DB}`;

let idp: TestIssuer;
beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: CONFIG });
});
afterAll(() => idp?.close());

async function relyingParty(issuer: TestIssuer, id: string, auth: client.ClientAuth): Promise<client.Configuration> {
  const config = await client.discovery(new URL(issuer.url), id, undefined, auth, { execute: [client.allowInsecureRequests] });
  client.enableNonRepudiationChecks(config);
  return config;
}

async function pkce() {
  const verifier = client.randomPKCECodeVerifier();
  return { verifier, challenge: await client.calculatePKCECodeChallenge(verifier) };
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** POST /par with Basic credentials (or none); the JSON answer and status. */
async function push(issuer: TestIssuer, params: Record<string, string>, credentials: [string, string] | null = [EXAMPLE_APP.id, EXAMPLE_APP.secret]) {
  const response = await fetch(`${issuer.url}/par`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(credentials ? { authorization: basic(...credentials) } : {}) },
    body: new URLSearchParams(params),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, string | number> };
}

async function validParams(redirectURI = EXAMPLE_APP.redirectURI): Promise<Record<string, string>> {
  return { response_type: 'code', redirect_uri: redirectURI, scope: 'openid email', state: 'pushed-state', code_challenge: (await pkce()).challenge, code_challenge_method: 'S256', connector_id: 'local' };
}

async function expectPage(url: string, text: RegExp): Promise<void> {
  const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(await response.text()).toMatch(text);
}

describe('pushed authorization requests with openid-client', () => {
  it('advertises the endpoint and logs in through buildAuthorizationUrlWithPAR', async () => {
    const config = await relyingParty(idp, EXAMPLE_APP.id, client.ClientSecretBasic(EXAMPLE_APP.secret));
    expect(config.serverMetadata()).toMatchObject({ pushed_authorization_request_endpoint: `${idp.url}/par`, require_pushed_authorization_requests: false });
    const { verifier, challenge } = await pkce();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email', state, nonce, code_challenge: challenge, code_challenge_method: 'S256', connector_id: 'local',
    });
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    const callback = await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    expect(tokens.claims()).toMatchObject({ aud: EXAMPLE_APP.id, email: ADMIN.email, nonce });
    expect(idp.audit.events).toContainEqual(expect.objectContaining({ event: 'authorization_request_pushed', outcome: 'succeeded', clientId: EXAMPLE_APP.id }));
  });

  it('lets a public client push with its client_id alone', async () => {
    const config = await relyingParty(idp, PUBLIC_APP.id, client.None());
    const { verifier, challenge } = await pkce();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: PUBLIC_APP.redirectURI, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256', connector_id: 'local',
    });
    const callback = await followLogin(url.href, { redirectURI: PUBLIC_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.claims()).toMatchObject({ aud: PUBLIC_APP.id });
  });

  it('answers 201 with a short-lived one-time request_uri, not cacheable', async () => {
    const { status, headers, body } = await push(idp, await validParams());
    expect(status).toBe(201);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.expires_in).toBe(60);
    const stored = await idp.storage.pushedAuthRequests.get(String(body.request_uri).split(':').at(-1)!);
    expect(stored).toMatchObject({ clientId: EXAMPLE_APP.id, params: { client_id: EXAMPLE_APP.id, state: 'pushed-state' } });
    expect(stored!.expiresAt - stored!.createdAt).toBe(60_000);
  });

  it('uses the pushed parameters, not what the query adds', async () => {
    const { body } = await push(idp, await validParams());
    const query = new URLSearchParams({ client_id: EXAMPLE_APP.id, request_uri: String(body.request_uri), state: 'query-state', redirect_uri: 'http://127.0.0.1:5555/elsewhere' });
    const callback = await followLogin(`${idp.url}/auth?${query}`, { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
    expect(callback.searchParams.get('state')).toBe('pushed-state');
  });
});

describe('pushed request refusals', () => {
  it('refuses a request_uri used a second time, with a page', async () => {
    const { body } = await push(idp, await validParams());
    const url = `${idp.url}/auth?${new URLSearchParams({ client_id: EXAMPLE_APP.id, request_uri: String(body.request_uri) })}`;
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(302);
    await expectPage(url, /request_uri is unknown, expired or already used/);
  });

  it('refuses a request_uri used with another client_id, and spends it', async () => {
    const { body } = await push(idp, await validParams());
    const requestURI = String(body.request_uri);
    await expectPage(`${idp.url}/auth?${new URLSearchParams({ client_id: PUBLIC_APP.id, request_uri: requestURI })}`, /request_uri was pushed by another client/);
    await expectPage(`${idp.url}/auth?${new URLSearchParams({ client_id: EXAMPLE_APP.id, request_uri: requestURI })}`, /already used/);
  });

  it('refuses a request_uri without client_id, and one this server did not issue', async () => {
    const { body } = await push(idp, await validParams());
    await expectPage(`${idp.url}/auth?${new URLSearchParams({ request_uri: String(body.request_uri) })}`, /no client_id/);
    await expectPage(`${idp.url}/auth?${new URLSearchParams({ client_id: EXAMPLE_APP.id, request_uri: 'https://rp.example/request.jwt' })}`, /issued by this server/);
  });

  it('refuses an expired request_uri', async () => {
    const clock = manualClock(Date.now());
    const timed = await startTestIssuer({ configYaml: CONFIG, now: clock });
    try {
      const { body } = await push(timed, await validParams());
      clock.advance(61_000);
      await expectPage(`${timed.url}/auth?${new URLSearchParams({ client_id: EXAMPLE_APP.id, request_uri: String(body.request_uri) })}`, /unknown, expired or already used/);
    } finally {
      await timed.close();
    }
  });

  it("runs /auth's checks at push time and answers their errors as JSON", async () => {
    const valid = await validParams();
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ ...valid, redirect_uri: 'http://127.0.0.1:5555/not-registered' }, 'invalid_request', /redirect_uri is not registered/],
      [{ ...valid, scope: 'openid admin' }, 'invalid_scope', /admin/],
      [{ ...valid, code_challenge_method: 'plain' }, 'invalid_request', /"plain" is not accepted/],
      [{ ...valid, response_type: 'token' }, 'unsupported_response_type', /"token" alone/],
      [{ ...valid, resource: 'https://api.example.com/' }, 'invalid_target', /may not ask for resource/],
      [{ ...valid, request_uri: 'urn:ietf:params:oauth:request_uri:x' }, 'invalid_request', /request_uri must not be pushed/],
      [{ ...valid, client_id: PUBLIC_APP.id }, 'invalid_request', /client_id in the body does not match/],
    ];
    for (const [params, error, description] of cases) {
      const { status, body } = await push(idp, params);
      expect({ status, error: body.error }).toEqual({ status: 400, error });
      expect(body.error_description).toMatch(description);
    }
    expect(idp.audit.events).toContainEqual(expect.objectContaining({ event: 'authorization_request_push_refused', reason: 'invalid_scope', clientId: EXAMPLE_APP.id }));
  });

  it('requires client authentication: 401 invalid_client without or with a wrong secret', async () => {
    for (const credentials of [null, [EXAMPLE_APP.id, 'wrong'] as [string, string]]) {
      const { status, body } = await push(idp, await validParams(), credentials);
      expect({ status, error: body.error }).toEqual({ status: 401, error: 'invalid_client' });
    }
  });
});

describe('requirePushedAuthorizationRequests', () => {
  it('refuses a request sent straight to /auth by a client that must push, and serves its pushed one', async () => {
    const direct = new URLSearchParams({ client_id: PAR_APP.id, ...(await validParams(PAR_APP.redirectURI)) });
    const refused = await fetch(`${idp.url}/auth?${direct}`, { redirect: 'manual' });
    const target = new URL(refused.headers.get('location')!);
    expect(`${target.origin}${target.pathname}`).toBe(PAR_APP.redirectURI);
    expect(target.searchParams.get('error')).toBe('invalid_request');
    expect(target.searchParams.get('error_description')).toMatch(/must push its authorization request/);

    const { status, body } = await push(idp, await validParams(PAR_APP.redirectURI), [PAR_APP.id, PAR_APP.secret]);
    expect(status).toBe(201);
    const callback = await followLogin(`${idp.url}/auth?${new URLSearchParams({ client_id: PAR_APP.id, request_uri: String(body.request_uri) })}`, {
      redirectURI: PAR_APP.redirectURI, username: ADMIN.email, password: ADMIN.password,
    });
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  it('applies to every client with oauth2.requirePushedAuthorizationRequests, and discovery says so', async () => {
    const strict = await startTestIssuer({ configYaml: CONFIG.replace('oauth2: { skipApprovalScreen: true }', 'oauth2: { skipApprovalScreen: true, requirePushedAuthorizationRequests: true }') });
    try {
      const config = await relyingParty(strict, EXAMPLE_APP.id, client.ClientSecretBasic(EXAMPLE_APP.secret));
      expect(config.serverMetadata().require_pushed_authorization_requests).toBe(true);
      const direct = client.buildAuthorizationUrl(config, await validParams());
      const refused = await fetch(direct, { redirect: 'manual' });
      expect(new URL(refused.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
      const pushed = await client.buildAuthorizationUrlWithPAR(config, await validParams());
      expect((await fetch(pushed, { redirect: 'manual' })).status).toBe(302);
    } finally {
      await strict.close();
    }
  });
});
