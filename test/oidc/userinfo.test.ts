// /userinfo: only our own, unexpired, unrevoked JWT access tokens (typ at+jwt, allowed algorithms) get
// claims; everything else is 401 invalid_token with a Bearer challenge.
import { generateKeyPair, SignJWT, decodeProtectedHeader, decodeJwt, base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.js';

let server: TestServer;
let tokens: { access_token: string; id_token: string };

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({ id: 'web', secret: 'web secret' });
  const seeded = await server.seedCode({ scopes: ['openid', 'profile', 'federated:id'] });
  const response = await server.post('/token', {
    grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback',
    code_verifier: seeded.verifier, client_id: 'web', client_secret: 'web secret',
  });
  tokens = (await response.json()) as typeof tokens;
});
afterAll(() => server.close());

function getUserInfo(token: string | undefined) {
  return fetch(`${server.issuer}/userinfo`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="idgate", error="invalid_token"/);
}

describe('/userinfo', () => {
  it('answers the claims of the granted scopes for a Bearer header on GET', async () => {
    const response = await getUserInfo(tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      sub: decodeJwt(tokens.access_token).sub,
      name: 'Alice Liddell',
      preferred_username: 'alice',
      federated_claims: { connector_id: 'mock', user_id: 'u-alice' },
    });
  });

  it('accepts the token in a POST form body (RFC 6750 §2.2)', async () => {
    const response = await server.post('/userinfo', { access_token: tokens.access_token });
    expect(response.status).toBe(200);
  });

  it('refuses a token sent both in the header and the body', async () => {
    const response = await server.post('/userinfo', { access_token: tokens.access_token }, { authorization: `Bearer ${tokens.access_token}` });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('challenges a request without a token', async () => {
    const response = await getUserInfo(undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="idgate"');
  });

  it('refuses a tampered token', async () => {
    const [header, payload, signature] = tokens.access_token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
    const forged = base64url.encode(JSON.stringify({ ...claims, sub: 'someone-else' }));
    await expectInvalidToken(await getUserInfo(`${header}.${forged}.${signature}`));
  });

  it('refuses a token signed by a foreign key, even with our kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const { kid } = decodeProtectedHeader(tokens.access_token);
    const foreign = await new SignJWT(decodeJwt(tokens.access_token))
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .sign(privateKey);
    await expectInvalidToken(await getUserInfo(foreign));
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    const payload = tokens.access_token.split('.')[1];
    await expectInvalidToken(await getUserInfo(`${header}.${payload}.`));
  });

  it('refuses an ID token presented as an access token (typ is not at+jwt)', async () => {
    await expectInvalidToken(await getUserInfo(tokens.id_token));
  });

  it('refuses an expired access token', async () => {
    server.clock.advance(3600 * 1000);
    try {
      await expectInvalidToken(await getUserInfo(tokens.access_token));
    } finally {
      server.clock.advance(-3600 * 1000);
    }
  });

  it('refuses a token of a revoked session', async () => {
    const sid = decodeJwt(tokens.access_token).sid as string;
    await server.ctx.storage.revocations.create({
      id: `sid:${sid}`, kind: 'sid', value: sid, createdAt: server.clock(), expiresAt: server.clock() + 60_000,
    });
    try {
      await expectInvalidToken(await getUserInfo(tokens.access_token));
    } finally {
      await server.ctx.storage.revocations.delete(`sid:${sid}`);
    }
  });

  it('refuses a malformed Authorization header', async () => {
    const response = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: 'Bearer a b' } });
    await expectInvalidToken(response);
  });
});
