/**
 * Authorization responses beyond code in the query: response_mode=form_post (an auto-submitted page,
 * CSP-clean, every value escaped) and fragment, driven by openid-client where it has a flow for them;
 * Dex's oauth2.responseTypes values: the implicit (`id_token`, `id_token token`) and hybrid (`code
 * id_token`, `code token`, `code id_token token`) responses, with nonce, at_hash and c_hash checked
 * against the published keys; and their refusals (`token` alone, no nonce, query mode, PKCE without
 * a code), each in the mode the client listens on.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { followLoginTo, parseForms } from '../helpers/http-login.js';
import { ADMIN, ADMIN_PASSWORD_DB, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const CONFIG = `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2:
  skipApprovalScreen: true
  responseTypes: [code, token, id_token]
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
  - id: ${PUBLIC_APP.id}
    name: Public App
    public: true
    redirectURIs: [${PUBLIC_APP.redirectURI}]
${ADMIN_PASSWORD_DB}`;

let idp: TestIssuer;
beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: CONFIG });
});
afterAll(() => idp?.close());

async function relyingParty(kind: 'confidential' | 'public', ...execute: Array<(config: client.Configuration) => void>) {
  const auth = kind === 'public' ? client.None() : client.ClientSecretBasic(EXAMPLE_APP.secret);
  const config = await client.discovery(new URL(idp.url), kind === 'public' ? PUBLIC_APP.id : EXAMPLE_APP.id, undefined, auth, {
    execute: [client.allowInsecureRequests, ...execute],
  });
  client.enableNonRepudiationChecks(config);
  return config;
}

function login(url: URL | string, redirectURI = EXAMPLE_APP.redirectURI) {
  return followLoginTo(url.toString(), { redirectURI, username: ADMIN.email, password: ADMIN.password });
}

/** What a browser's form_post to the client looks like to the client. */
function formPostRequest(landing: { url: URL; form?: URLSearchParams }): Request {
  expect(landing.form).toBeDefined();
  return new Request(landing.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: landing.form!.toString() });
}

/** at_hash / c_hash for RS256, computed here rather than by the code under test. */
function halfHash(value: string): string {
  return createHash('sha256').update(value).digest().subarray(0, 16).toString('base64url');
}

function authQuery(params: Record<string, string>): string {
  return `${idp.url}/auth?${new URLSearchParams({ client_id: EXAMPLE_APP.id, redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email', state: 'st', connector_id: 'local', ...params })}`;
}

async function redirectOf(url: string): Promise<URL> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!);
}

describe('response_mode=form_post', () => {
  it('posts the code to the client from a CSP-clean auto-submitting page, and openid-client redeems it', async () => {
    const rp = await relyingParty('confidential');
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email', state: 'fp-state', response_mode: 'form_post',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: 'local',
    });
    const landing = await login(url);
    expect(landing.url.search).toBe('');
    expect([...landing.form!.keys()]).toEqual(['code', 'state', 'iss']);
    const tokens = await client.authorizationCodeGrant(rp, formPostRequest(landing), { pkceCodeVerifier: verifier, expectedState: 'fp-state' });
    expect(tokens.claims()).toMatchObject({ aud: EXAMPLE_APP.id, email: ADMIN.email });
  });

  it('sends errors the same way, and escapes every value on the page', async () => {
    const state = '"><script>alert(1)</script>';
    const response = await fetch(authQuery({ response_type: 'code', response_mode: 'form_post', prompt: 'none', state }), { redirect: 'manual' });
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:5555");
    expect(csp).not.toMatch(/unsafe-inline/);
    const html = await response.text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).toMatch(/<script src="\/dex\/static\/autosubmit\.js" defer><\/script>/);
    expect(html).not.toMatch(/<script>/);
    const form = parseForms(html)[0]!;
    expect(form).toMatchObject({ action: EXAMPLE_APP.redirectURI, method: 'POST' });
    expect(form.fields).toMatchObject({ error: 'login_required', state, iss: idp.url });
    expect(form.buttons[0]!.value).toBe('Continue');
  });
});

describe('response_mode=fragment for the code', () => {
  it('puts code, state and iss in the fragment, and openid-client reads them there', async () => {
    const rp = await relyingParty('confidential');
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid', state: 'fr', response_mode: 'fragment',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: 'local',
    });
    const { url: landed } = await login(url);
    expect(landed.search).toBe('');
    const fragment = new URLSearchParams(landed.hash.slice(1));
    expect(fragment.get('state')).toBe('fr');
    expect(fragment.get('iss')).toBe(idp.url);
    const callback = new URL(EXAMPLE_APP.redirectURI);
    callback.search = fragment.toString();
    const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: 'fr' });
    expect(tokens.claims()!.aud).toBe(EXAMPLE_APP.id);
  });
});

describe('implicit and hybrid responses (Dex oauth2.responseTypes)', () => {
  it('id_token: a public client authenticates with openid-client (fragment, then form_post), no PKCE needed', async () => {
    const rp = await relyingParty('public', client.useIdTokenResponseType);
    for (const mode of [undefined, 'form_post']) {
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: PUBLIC_APP.redirectURI, scope: 'openid email', state: 'im', nonce, connector_id: 'local', ...(mode ? { response_mode: mode } : {}),
      });
      expect(url.searchParams.get('response_type')).toBe('id_token');
      const landing = await login(url, PUBLIC_APP.redirectURI);
      const claims = await client.implicitAuthentication(rp, mode ? formPostRequest(landing) : landing.url, nonce, { expectedState: 'im' });
      expect(claims).toMatchObject({ iss: idp.url, aud: PUBLIC_APP.id, nonce, email: ADMIN.email });
      expect(claims.at_hash).toBeUndefined();
    }
    expect(idp.audit.events).toContainEqual(expect.objectContaining({ event: 'token_issued', grant: 'implicit', clientId: PUBLIC_APP.id, refreshTokenIssued: false }));
  });

  it('code id_token: openid-client checks c_hash and redeems the code (hybrid flow)', async () => {
    const rp = await relyingParty('confidential', client.useCodeIdTokenResponseType);
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email offline_access', state: 'hy', nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: 'local',
    });
    const { url: landed } = await login(url);
    const fragment = new URLSearchParams(landed.hash.slice(1));
    expect(decodeJwt(fragment.get('id_token')!).c_hash).toBe(halfHash(fragment.get('code')!));
    const tokens = await client.authorizationCodeGrant(rp, landed, { pkceCodeVerifier: verifier, expectedState: 'hy', expectedNonce: nonce });
    expect(tokens.refresh_token).toBeTruthy();
    // Both ID tokens belong to one session.
    expect(tokens.claims()!.sid).toBe(decodeJwt(fragment.get('id_token')!).sid);
  });

  it.each([
    ['id_token token', { token: true, code: false }],
    ['code token', { token: true, code: true }],
    ['code id_token token', { token: true, code: true }],
  ])('%s: returns what it names in the fragment, signed, with nonce, at_hash and c_hash', async (responseType, parts) => {
    const nonce = 'n-implicit';
    const verifier = client.randomPKCECodeVerifier();
    const pkce: Record<string, string> = parts.code ? { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' } : {};
    const { url: landed } = await login(authQuery({ response_type: responseType, nonce, ...pkce }));
    const fragment = new URLSearchParams(landed.hash.slice(1));
    expect(landed.search).toBe('');
    expect(fragment.get('state')).toBe('st');
    expect(fragment.get('iss')).toBe(idp.url);
    expect(fragment.has('code')).toBe(parts.code);
    expect(fragment.has('id_token')).toBe(responseType.includes('id_token'));
    expect(fragment.has('refresh_token')).toBe(false);
    const keys = createRemoteJWKSet(new URL(`${idp.url}/keys`));
    const accessToken = fragment.get('access_token')!;
    expect(fragment.get('token_type')).toBe('Bearer');
    expect(fragment.get('expires_in')).toBe('3600');
    const access = await jwtVerify(accessToken, keys, { issuer: idp.url, audience: EXAMPLE_APP.id, typ: 'at+jwt' });
    expect(access.payload).toMatchObject({ client_id: EXAMPLE_APP.id, email: ADMIN.email });
    if (fragment.has('id_token')) {
      const id = await jwtVerify(fragment.get('id_token')!, keys, { issuer: idp.url, audience: EXAMPLE_APP.id });
      expect(id.payload).toMatchObject({ nonce, at_hash: halfHash(accessToken), sid: access.payload.sid });
      if (parts.code) expect(id.payload.c_hash).toBe(halfHash(fragment.get('code')!));
    }
    const userinfo = await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(((await userinfo.json()) as { email: string }).email).toBe(ADMIN.email);
  });

  it('advertises the response types and modes it serves, and the implicit grant', async () => {
    const metadata = (await relyingParty('public')).serverMetadata();
    expect(metadata.response_types_supported).toEqual(['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token']);
    expect(metadata.response_modes_supported).toEqual(['query', 'fragment', 'form_post']);
    expect(metadata.grant_types_supported).toContain('implicit');
  });
});

describe('implicit and hybrid refusals', () => {
  function fragmentError(target: URL): URLSearchParams {
    expect(`${target.origin}${target.pathname}`).toBe(EXAMPLE_APP.redirectURI);
    expect(target.search).toBe('');
    return new URLSearchParams(target.hash.slice(1));
  }

  it('refuses token alone (OAuth 2.0 implicit grant, RFC 9700 §2.1.2)', async () => {
    const answer = fragmentError(await redirectOf(authQuery({ response_type: 'token', nonce: 'n' })));
    expect(answer.get('error')).toBe('unsupported_response_type');
    expect(answer.get('state')).toBe('st');
    expect(answer.get('iss')).toBe(idp.url);
  });

  it('needs a nonce whenever tokens come back from /auth', async () => {
    for (const responseType of ['id_token', 'code id_token', 'code token']) {
      const answer = fragmentError(await redirectOf(authQuery({ response_type: responseType })));
      expect(answer.get('error')).toBe('invalid_request');
      expect(answer.get('error_description')).toMatch(/needs a nonce/);
    }
  });

  it('refuses response_mode=query for tokens, answering in the fragment', async () => {
    const answer = fragmentError(await redirectOf(authQuery({ response_type: 'id_token', nonce: 'n', response_mode: 'query' })));
    expect(answer.get('error_description')).toMatch(/"query" is not allowed when tokens are returned/);
  });

  it('refuses a PKCE challenge when no code is returned', async () => {
    const answer = fragmentError(await redirectOf(authQuery({ response_type: 'id_token', nonce: 'n', code_challenge: 'E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })));
    expect(answer.get('error_description')).toMatch(/code_challenge has no use with response_type "id_token"/);
  });

  it('refuses the parts oauth2.responseTypes does not enable', async () => {
    const codeOnly = await startTestIssuer({ configYaml: CONFIG.replace('responseTypes: [code, token, id_token]', 'responseTypes: [code, id_token]') });
    try {
      const query = new URLSearchParams({ client_id: EXAMPLE_APP.id, redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid', response_type: 'id_token token', nonce: 'n' });
      const target = new URL((await fetch(`${codeOnly.url}/auth?${query}`, { redirect: 'manual' })).headers.get('location')!);
      expect(new URLSearchParams(target.hash.slice(1)).get('error')).toBe('unsupported_response_type');
      const metadata = (await (await fetch(`${codeOnly.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata.response_types_supported).toEqual(['code', 'id_token', 'code id_token']);
      expect(metadata.grant_types_supported).toContain('implicit');
    } finally {
      await codeOnly.close();
    }
  });
});

describe('oauth2.responseTypes in the config', () => {
  const parse = (values: string) => () => parseConfig(`issuer: http://127.0.0.1:5556/dex\nstorage: { type: memory }\nweb: { http: 127.0.0.1:5556 }\noauth2: { responseTypes: ${values} }\n`, 'test.yaml', {});

  it("accepts Dex's values", () => {
    expect(parse('[code, token, id_token, "code id_token", "code token", "id_token token", "code id_token token"]')().oauth2.responseTypes).toHaveLength(7);
  });

  it('refuses anything else, naming the entry', () => {
    expect(parse('[code, "id_token code"]')).toThrow(/oauth2\.responseTypes\[1\]/);
    expect(parse('[]')).toThrow(/oauth2\.responseTypes: must list at least one response type/);
  });
});
