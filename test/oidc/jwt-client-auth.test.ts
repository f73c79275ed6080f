// private_key_jwt and client_secret_jwt (RFC 7523) driven by openid-client v6 as the RP: the code and
// refresh grants with keys inline (jwks) or fetched (jwksURI), and an HMAC over a static client's secret.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, type TestIssuer } from '../helpers/issuer.js';
import { HMAC_SECRET, keyPair, REDIRECT_URI, startJwtClientsBed, type JwtClientsBed, type KeyPair, type KeyServer } from '../helpers/jwt-clients.js';

let bed: JwtClientsBed;
let idp: TestIssuer;
let inline: KeyPair;
let remote: KeyPair;
let keyServer: KeyServer;

beforeAll(async () => {
  bed = await startJwtClientsBed('Ed25519');
  ({ idp, inline, remote, keyServer } = bed);
});
afterAll(() => bed.close());

function relyingParty(clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(idp.url), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

async function codeFlow(rp: client.Configuration) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authURL = client.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email offline_access', state, connector_id: 'local',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await followLogin(authURL.toString(), { redirectURI: REDIRECT_URI, username: ADMIN.email, password: ADMIN.password });
  return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
}

describe('JWT client authentication with openid-client', () => {
  it('advertises both methods and their algorithms, as the token endpoint accepts them', async () => {
    const metadata = (await relyingParty('basic', client.ClientSecretPost('basic-secret'))).serverMetadata();
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none']);
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512']);
  });

  it('runs the code and refresh grants with private_key_jwt and keys given inline (ES256)', async () => {
    const rp = await relyingParty('inline-keys', client.PrivateKeyJwt({ key: inline.privateKey, kid: 'inline-1' }));
    const tokens = await codeFlow(rp);
    expect(tokens.claims()).toMatchObject({ aud: 'inline-keys', email: ADMIN.email });
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(tokens.claims()!.sub);
    expect(idp.audit.events.filter((event) => event.event === 'token_issued' && event.clientId === 'inline-keys')).toHaveLength(2);
  });

  it('runs the code and refresh grants with private_key_jwt and keys at a jwksURI (Ed25519), fetched once', async () => {
    const rp = await relyingParty('remote-keys', client.PrivateKeyJwt(remote.privateKey));
    const tokens = await codeFlow(rp);
    await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(keyServer.fetches).toBe(1);
  });

  it('runs the code and refresh grants with client_secret_jwt over a static client secret (HS256)', async () => {
    const rp = await relyingParty('hmac', client.ClientSecretJwt(HMAC_SECRET));
    const tokens = await codeFlow(rp);
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()!.aud).toBe('hmac');
  });

  it('refuses a client_secret_jwt MACed under another secret, as openid-client reports it', async () => {
    const rp = await relyingParty('hmac', client.ClientSecretJwt('another-secret-of-more-than-thirty-two-bytes'));
    await expect(client.refreshTokenGrant(rp, 'a.b')).rejects.toMatchObject({
      error: 'invalid_client', error_description: 'client_assertion signature is invalid', status: 401,
    });
  });

  it('refuses private_key_jwt signed with a key the client did not register', async () => {
    const stranger = await keyPair('ES256', 'inline-1');
    const rp = await relyingParty('inline-keys', client.PrivateKeyJwt({ key: stranger.privateKey, kid: 'inline-1' }));
    await expect(client.refreshTokenGrant(rp, 'a.b')).rejects.toMatchObject({ error: 'invalid_client', error_description: 'client_assertion signature is invalid' });
  });
});
