// The whole issuer (login pages from the login flow, token side from here) with openid-client v6 as
// the RP: what the login flow stores in an AuthCode is exactly what the token endpoint needs.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../src/oidc/claims.js';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

let idp: TestIssuer;

beforeAll(async () => {
  idp = await startTestIssuer();
});
afterAll(() => idp.close());

async function login(rp: client.Configuration, redirectURI: string, scope: string) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authURL = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectURI, scope, state, nonce, connector_id: 'local',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await followLogin(authURL.toString(), { redirectURI, username: ADMIN.email, password: ADMIN.password });
  return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
}

describe('login to tokens, end to end', () => {
  it('logs a confidential client in, refreshes and reads /userinfo', async () => {
    const rp = await client.discovery(new URL(idp.url), EXAMPLE_APP.id, EXAMPLE_APP.secret, undefined, { execute: [client.allowInsecureRequests] });
    client.enableNonRepudiationChecks(rp);
    const tokens = await login(rp, EXAMPLE_APP.redirectURI, 'openid email profile groups offline_access');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: idp.url, sub: subjectOf(ADMIN.userId, 'local'), aud: EXAMPLE_APP.id, email: ADMIN.email, groups: ['admins', 'developers'] });
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(claims.sub);
    const info = await client.fetchUserInfo(rp, refreshed.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, email: ADMIN.email, groups: ['admins', 'developers'] });
  });

  it('logs a public client in with PKCE and no secret', async () => {
    const rp = await client.discovery(new URL(idp.url), PUBLIC_APP.id, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    client.enableNonRepudiationChecks(rp);
    const tokens = await login(rp, PUBLIC_APP.redirectURI, 'openid');
    expect(tokens.claims()!.aud).toBe(PUBLIC_APP.id);
    expect(tokens.refresh_token).toBeUndefined();
  });
});
