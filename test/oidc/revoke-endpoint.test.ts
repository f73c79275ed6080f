/**
 * The revocation endpoint (RFC 7009) driven by openid-client's tokenRevocation as a real client, plus
 * raw requests for what a well-behaved client never sends: no or wrong credentials, no token, an ID
 * token, someone else's token.
 */
import { SignJWT, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogin } from '../helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const OTHER_APP = { id: 'other-app', secret: 'b3RoZXItYXBwLXNlY3JldA', redirectURI: 'http://127.0.0.1:5555/other/callback' };
const CONFIG = DEFAULT_TEST_CONFIG.replace('staticClients:\n', `staticClients:
  - id: ${OTHER_APP.id}
    name: Other App
    secret: ${OTHER_APP.secret}
    redirectURIs: [${OTHER_APP.redirectURI}]
`);

let idp: TestIssuer;
beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: CONFIG });
});
afterAll(async () => {
  await idp?.close();
});

async function relyingParty(app: { id: string; secret: string } = EXAMPLE_APP): Promise<client.Configuration> {
  return client.discovery(new URL(idp.url), app.id, undefined, client.ClientSecretBasic(app.secret), { execute: [client.allowInsecureRequests] });
}

async function logIn(config: client.Configuration, redirectURI = EXAMPLE_APP.redirectURI) {
  const verifier = client.randomPKCECodeVerifier();
  const authURL = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI,
    scope: 'openid email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    connector_id: 'local',
  });
  const callback = await followLogin(authURL.toString(), { redirectURI, username: ADMIN.email, password: ADMIN.password });
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

async function rawRevoke(body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${idp.url}/token/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

describe('revocation endpoint (RFC 7009)', () => {
  it('is advertised in discovery with the token endpoint auth methods', async () => {
    const metadata = (await relyingParty()).serverMetadata();
    expect(metadata.revocation_endpoint).toBe(`${idp.url}/token/revoke`);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual(metadata.token_endpoint_auth_methods_supported);
    expect(metadata.revocation_endpoint_auth_signing_alg_values_supported).toEqual(metadata.token_endpoint_auth_signing_alg_values_supported);
  });

  it('revokes the whole grant when a refresh token is revoked: refresh, every access token of it and userinfo all refused', async () => {
    const config = await relyingParty();
    const tokens = await logIn(config);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const sid = claimsOf(tokens.access_token).sid as string;
    const familyId = refreshed.refresh_token!.split('.')[0]!;
    await client.tokenRevocation(config, refreshed.refresh_token!, { token_type_hint: 'refresh_token' });

    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Both access tokens carry the family's grant tag (not its id: that is half the refresh token), and one record denies them.
    const tags = [tokens.access_token, refreshed.access_token].map((token) => (claimsOf(token).jti as string).split('.')[0]!);
    expect(tags[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(tags[1]).toBe(tags[0]);
    expect(tags[0]).not.toBe(familyId);
    const value = `${idp.url} ${tags[0]}`;
    expect(await idp.storage.revocations.get(`grant:${value}`)).toMatchObject({ kind: 'grant', value, userId: ADMIN.userId });
    for (const accessToken of [tokens.access_token, refreshed.access_token]) {
      await expect(client.fetchUserInfo(config, accessToken, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    }
    expect(await idp.storage.refreshTokens.get(familyId)).toBeUndefined();
    // The sid is the browser's login session, shared with other clients: the grant's revocation leaves it be.
    expect(familyId).not.toBe(sid);
    expect(await idp.storage.revocations.get(`sid:${sid}`)).toBeUndefined();
    const audit = idp.audit.events.filter((event) => event.event === 'token_revoked').at(-1);
    expect(audit).toMatchObject({ clientId: EXAMPLE_APP.id, tokenType: 'refresh_token', sid });
    expect(JSON.stringify(idp.audit.events)).not.toContain(tokens.refresh_token!.split('.')[1]);
  });

  it('revokes every access token of the grant however many it issued (a family used to remember only the last 100)', async () => {
    const config = await relyingParty();
    const tokens = await logIn(config);
    const accessTokens = [tokens.access_token];
    let refreshToken = tokens.refresh_token!;
    for (let n = 0; n < 105; n++) {
      const refreshed = await client.refreshTokenGrant(config, refreshToken);
      accessTokens.push(refreshed.access_token);
      refreshToken = refreshed.refresh_token!;
    }
    const family = await idp.storage.refreshTokens.get(refreshToken.split('.')[0]!);
    expect(family).toBeDefined();
    expect(family!.accessTokens).toBeUndefined(); // nothing grows with each refresh
    await client.tokenRevocation(config, refreshToken);
    for (const accessToken of [accessTokens[0]!, accessTokens[50]!, accessTokens.at(-1)!]) {
      await expect(client.fetchUserInfo(config, accessToken, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    }
  });

  it('also revokes by jti the access tokens a family stored before grant tags listed, and refreshing forgets the expired ones', async () => {
    const config = await relyingParty();
    const tokens = await logIn(config);
    const familyId = tokens.refresh_token!.split('.')[0]!;
    const now = Date.now();
    const listed = [{ jti: 'listed-live', expiresAt: now + 3_600_000 }, { jti: 'listed-expired', expiresAt: now - 1_000 }];
    await idp.storage.refreshTokens.update(familyId, (family) => ({ ...family, accessTokens: listed }));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await idp.storage.refreshTokens.get(familyId))!.accessTokens).toEqual([listed[0]]);
    await client.tokenRevocation(config, refreshed.refresh_token!);
    expect(await idp.storage.revocations.get('jti:listed-live')).toMatchObject({ kind: 'jti', expiresAt: listed[0]!.expiresAt });
    expect(await idp.storage.revocations.get('jti:listed-expired')).toBeUndefined();
    await expect(client.fetchUserInfo(config, refreshed.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
  });

  it('revokes the session through a rotated (previous) refresh token of the family too', async () => {
    const config = await relyingParty();
    const tokens = await logIn(config);
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    await client.tokenRevocation(config, tokens.refresh_token!);
    await expect(client.refreshTokenGrant(config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('revokes an access token by its jti until its exp, and leaves the session usable', async () => {
    const config = await relyingParty();
    const tokens = await logIn(config);
    const { jti, exp } = claimsOf(tokens.access_token) as { jti: string; exp: number };
    await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });

    expect(await idp.storage.revocations.get(`jti:${jti}`)).toMatchObject({ kind: 'jti', value: jti, expiresAt: exp * 1000 });
    await expect(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck)).rejects.toMatchObject({ status: 401 });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await client.fetchUserInfo(config, refreshed.access_token, client.skipSubjectCheck)).toMatchObject({ email: ADMIN.email });
  });

  it('ignores an unknown token_type_hint and still revokes (§2.1)', async () => {
    const config = await relyingParty();
    const tokens = await logIn(config);
    await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'something_else' });
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('answers 200 and changes nothing for another client\'s refresh or access token', async () => {
    const tokens = await logIn(await relyingParty());
    const other = await relyingParty(OTHER_APP);
    await client.tokenRevocation(other, tokens.refresh_token!);
    await client.tokenRevocation(other, tokens.access_token);
    expect(await idp.storage.revocations.get(`jti:${claimsOf(tokens.access_token).jti as string}`)).toBeUndefined();
    const refreshed = await client.refreshTokenGrant(await relyingParty(), tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
    expect(idp.audit.events.filter((event) => event.event === 'token_revocation_ignored').at(-1)).toMatchObject({ clientId: OTHER_APP.id, reason: 'other_client' });
  });

  it('answers 200 for tokens it does not know: garbage, a wrong secret, a JWT signed by another key (§2.2)', async () => {
    const tokens = await logIn(await relyingParty());
    const familyId = tokens.refresh_token!.split('.')[0]!;
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...claimsOf(tokens.access_token) }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'x' }).sign(privateKey);
    for (const token of ['not-a-token', `${familyId}.wrong-secret`, forged]) {
      const response = await rawRevoke({ token }, basic(EXAMPLE_APP.id, EXAMPLE_APP.secret));
      expect(response.status).toBe(200);
    }
    expect(await idp.storage.refreshTokens.get(familyId)).toBeDefined();
    expect(await idp.storage.revocations.get(`jti:${claimsOf(forged).jti as string}`)).toBeUndefined();
  });

  it('refuses to revoke an ID token with unsupported_token_type (§2.2.1)', async () => {
    const tokens = await logIn(await relyingParty());
    const response = await rawRevoke({ token: tokens.id_token! }, basic(EXAMPLE_APP.id, EXAMPLE_APP.secret));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'unsupported_token_type' });
  });

  it('requires client authentication: 401 invalid_client without or with wrong credentials', async () => {
    const tokens = await logIn(await relyingParty());
    const anonymous = await rawRevoke({ token: tokens.refresh_token! });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: 'invalid_client' });
    const wrong = await rawRevoke({ token: tokens.refresh_token! }, basic(EXAMPLE_APP.id, 'wrong'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await idp.storage.refreshTokens.get(tokens.refresh_token!.split('.')[0]!)).toBeDefined();
  });

  it('requires the token parameter: 400 invalid_request', async () => {
    const response = await rawRevoke({ token_type_hint: 'refresh_token' }, basic(EXAMPLE_APP.id, EXAMPLE_APP.secret));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });
});
