/**
 * RFC 8707 resource indicators end to end with openid-client: `resource` at /auth (repeatable), at
 * PAR and at /token (code and refresh grants) becomes the access token's `aud` (the ID token stays the
 * client's); only the client's registered resources, and at /token only what the authorization granted
 * (downscoping), each refusal invalid_target.
 */
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, ADMIN_PASSWORD_DB, EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const API = 'https://api.example.com/';
const LEDGER = 'urn:example:ledger';
const UNREGISTERED = 'https://other.example.com/';
const PLAIN_APP = { id: 'plain-app', secret: 'cGxhaW4tYXBwLXNlY3JldA', redirectURI: 'http://127.0.0.1:5555/plain/callback' };

const CONFIG = `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2: { skipApprovalScreen: true }
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
    resources: [${API}, ${LEDGER}]
  - id: ${PLAIN_APP.id}
    name: No resources
    secret: ${PLAIN_APP.secret}
    redirectURIs: [${PLAIN_APP.redirectURI}]
${ADMIN_PASSWORD_DB}`;

let idp: TestIssuer;
let rp: client.Configuration;
beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: CONFIG });
  rp = await client.discovery(new URL(idp.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(rp);
});
afterAll(() => idp?.close());

/** The authorization request parameters with `resources` repeated as `resource`. */
async function authParams(resources: string[], extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const params = new URLSearchParams({
    redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email offline_access', state: 'st', nonce: 'n-1',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: 'local', ...extra,
  });
  for (const resource of resources) params.append('resource', resource);
  return { params, verifier };
}

async function logIn(resources: string[], options: { par?: boolean } = {}) {
  const { params, verifier } = await authParams(resources);
  const url = options.par ? await client.buildAuthorizationUrlWithPAR(rp, params) : client.buildAuthorizationUrl(rp, params);
  const callback = await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
  return { callback, verifier };
}

function redeem(login: { callback: URL; verifier: string }, resource?: string[]) {
  const extra = new URLSearchParams();
  for (const value of resource ?? []) extra.append('resource', value);
  return client.authorizationCodeGrant(rp, login.callback, { pkceCodeVerifier: login.verifier, expectedState: 'st', expectedNonce: 'n-1' }, extra);
}

async function refusal(promise: Promise<unknown>): Promise<client.ResponseBodyError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(client.ResponseBodyError);
  return error as client.ResponseBodyError;
}

describe('resource indicators (RFC 8707)', () => {
  it('makes the resources asked for at /auth the access token audience; the ID token stays the client\'s', async () => {
    const tokens = await redeem(await logIn([API, LEDGER]));
    expect(decodeJwt(tokens.access_token).aud).toEqual([API, LEDGER]);
    expect(tokens.claims()!.aud).toBe(EXAMPLE_APP.id);
    expect(decodeJwt(tokens.access_token).client_id).toBe(EXAMPLE_APP.id);
  });

  it('takes them through PAR too', async () => {
    const tokens = await redeem(await logIn([LEDGER], { par: true }));
    expect(decodeJwt(tokens.access_token).aud).toBe(LEDGER);
  });

  it('keeps the client as the audience when no resource is asked for', async () => {
    const tokens = await redeem(await logIn([]));
    expect(decodeJwt(tokens.access_token).aud).toBe(EXAMPLE_APP.id);
  });

  it('narrows to the resource the token request names', async () => {
    const tokens = await redeem(await logIn([API, LEDGER]), [API]);
    expect(decodeJwt(tokens.access_token).aud).toBe(API);
  });

  it('narrows at every refresh, from what the login granted, never beyond it', async () => {
    const tokens = await redeem(await logIn([API, LEDGER]), [API]);
    const ledger = await client.refreshTokenGrant(rp, tokens.refresh_token!, { resource: LEDGER });
    expect(decodeJwt(ledger.access_token).aud).toBe(LEDGER);
    const both = await client.refreshTokenGrant(rp, ledger.refresh_token!);
    expect(decodeJwt(both.access_token).aud).toEqual([API, LEDGER]);

    const error = await refusal(client.refreshTokenGrant(rp, both.refresh_token!, { resource: UNREGISTERED }));
    expect(error.error).toBe('invalid_target');
    // Refused before the token rotated: it still works.
    const after = await client.refreshTokenGrant(rp, both.refresh_token!, { resource: API });
    expect(decodeJwt(after.access_token).aud).toBe(API);
  });
});

describe('resource refusals: invalid_target', () => {
  it('refuses at /auth a resource the client did not register, one with a fragment and a relative one', async () => {
    for (const resource of [UNREGISTERED, `${API}#section`, '/relative']) {
      const { params } = await authParams([API, resource]);
      const response = await fetch(client.buildAuthorizationUrl(rp, params), { redirect: 'manual' });
      const target = new URL(response.headers.get('location')!);
      expect(`${target.origin}${target.pathname}`).toBe(EXAMPLE_APP.redirectURI);
      expect(target.searchParams.get('error')).toBe('invalid_target');
    }
  });

  it('refuses at /auth any resource from a client that registered none', async () => {
    const query = new URLSearchParams({ client_id: PLAIN_APP.id, redirect_uri: PLAIN_APP.redirectURI, response_type: 'code', scope: 'openid', resource: API });
    const response = await fetch(`${idp.url}/auth?${query}`, { redirect: 'manual' });
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
  });

  it('refuses at /token a resource the authorization did not grant (downscoping only)', async () => {
    const error = await refusal(redeem(await logIn([API]), [LEDGER]));
    expect(error.error).toBe('invalid_target');
    expect(error.error_description).toMatch(/not granted by the authorization: urn:example:ledger/);
    const none = await refusal(redeem(await logIn([]), [API]));
    expect(none.error).toBe('invalid_target');
  });

  it('refuses a malformed resource at /token before the code is spent', async () => {
    const login = await logIn([API]);
    expect((await refusal(redeem(login, [`${API}#frag`]))).error).toBe('invalid_target');
    expect((await refusal(redeem(login, [UNREGISTERED]))).error).toBe('invalid_target');
    const tokens = await redeem(login);
    expect(decodeJwt(tokens.access_token).aud).toBe(API);
  });
});
