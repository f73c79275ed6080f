/**
 * The whole issuer driven by openid-client v6 as a real relying party, with signature checks on
 * (enableNonRepudiationChecks): discovery, code + PKCE + state + nonce through the real login pages,
 * ID token claims, userinfo, refresh rotation and reuse detection.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

let idp: TestIssuer;

beforeAll(async () => {
  idp = await startTestIssuer();
});
afterAll(async () => {
  await idp?.close();
});

async function relyingParty(kind: 'basic' | 'post' | 'public' = 'basic'): Promise<client.Configuration> {
  const auth =
    kind === 'public' ? client.None() : kind === 'basic' ? client.ClientSecretBasic(EXAMPLE_APP.secret) : client.ClientSecretPost(EXAMPLE_APP.secret);
  const config = await client.discovery(new URL(idp.url), kind === 'public' ? PUBLIC_APP.id : EXAMPLE_APP.id, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  return config;
}

async function logIn(config: client.Configuration, scope: string, redirectURI = EXAMPLE_APP.redirectURI) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authURL = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    connector_id: 'local',
  });
  const callback = await followLogin(authURL.toString(), { redirectURI, username: ADMIN.email, password: ADMIN.password });
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  return { tokens, callback, nonce };
}

describe('OpenID Connect flows with openid-client', () => {
  it('discovers every endpoint it uses', async () => {
    const config = await relyingParty();
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(idp.url);
    expect(metadata.authorization_endpoint).toBe(`${idp.url}/auth`);
    expect(metadata.token_endpoint).toBe(`${idp.url}/token`);
    expect(metadata.jwks_uri).toBe(`${idp.url}/keys`);
    expect(metadata.userinfo_endpoint).toBe(`${idp.url}/userinfo`);
    expect(metadata.code_challenge_methods_supported).toContain('S256');
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('logs in with code + PKCE + state + nonce and issues the documented ID token claims', async () => {
    const config = await relyingParty('basic');
    const { tokens, callback, nonce } = await logIn(config, 'openid email profile groups offline_access');
    expect(callback.searchParams.get('iss')).toBe(idp.url);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: idp.url,
      aud: EXAMPLE_APP.id,
      nonce,
      email: ADMIN.email,
      name: 'admin',
      groups: ['admins', 'developers'],
    });
    expect(typeof claims.sub).toBe('string');
    expect(claims.exp).toBeGreaterThan(claims.iat);
    expect(typeof claims.auth_time).toBe('number');
    expect(typeof claims.at_hash).toBe('string');
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('serves userinfo for the access token, with the subject of the ID token', async () => {
    const config = await relyingParty('post');
    const { tokens } = await logIn(config, 'openid email groups');
    const sub = tokens.claims()!.sub;
    const info = await client.fetchUserInfo(config, tokens.access_token, sub);
    expect(info).toMatchObject({ sub, email: ADMIN.email, groups: ['admins', 'developers'] });
  });

  it('gives the same subject on every login of the same user', async () => {
    const config = await relyingParty();
    const first = await logIn(config, 'openid');
    const second = await logIn(config, 'openid');
    expect(second.tokens.claims()!.sub).toBe(first.tokens.claims()!.sub);
  });

  it('rotates the refresh token, and reuse of a rotated token revokes the family', async () => {
    const config = await relyingParty();
    const { tokens } = await logIn(config, 'openid offline_access');
    const original = tokens.refresh_token!;
    const rotated = await client.refreshTokenGrant(config, original);
    expect(rotated.refresh_token).toBeTruthy();
    expect(rotated.refresh_token).not.toBe(original);
    expect(rotated.claims()!.sub).toBe(tokens.claims()!.sub);

    // Past the reuse interval, the old token is a replay: refused, and the whole family with it.
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    await expect(client.refreshTokenGrant(config, original)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lets a public client log in with PKCE and no secret', async () => {
    const config = await relyingParty('public');
    const { tokens } = await logIn(config, 'openid email', PUBLIC_APP.redirectURI);
    expect(tokens.claims()).toMatchObject({ aud: PUBLIC_APP.id, email: ADMIN.email });
  });

  it('refuses a code replayed by the client', async () => {
    const config = await relyingParty();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authURL = client.buildAuthorizationUrl(config, {
      redirect_uri: EXAMPLE_APP.redirectURI,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      connector_id: 'local',
    });
    const callback = await followLogin(authURL.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
    await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});
