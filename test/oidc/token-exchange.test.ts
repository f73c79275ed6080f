// Token exchange (RFC 8693) of idgate's own tokens, driven by openid-client v6's genericGrantRequest as a
// real client: a token for another audience, the delegation in `act`, ID tokens in and out, and a
// refusal with its RFC error code for every rule (RFC 8693 §2.2.2: invalid_request for an unacceptable
// subject or actor token, invalid_target for an audience not allowed).
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../src/oidc/claims.js';
import { revokeSession, revokeSubject } from '../../src/oidc/revocation.js';
import { revokeToken } from '../../src/oidc/revoke-endpoint.js';
import { ALICE, basic, startTestServer, type TestServer } from './harness.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const ID = 'urn:ietf:params:oauth:token-type:id_token';

let server: TestServer;
let gateway: client.Configuration;

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({ id: 'gateway', secret: 'gateway secret', grantTypes: ['authorization_code', 'refresh_token', GRANT], trustedPeers: ['robot'] });
  await server.seedClient({ id: 'orders', secret: 'orders secret', trustedPeers: ['gateway'], grantTypes: [GRANT] });
  await server.seedClient({ id: 'ledger', secret: 'ledger secret', trustedPeers: ['orders'] });
  await server.seedClient({ id: 'reports', secret: 'reports secret' });
  await server.seedClient({ id: 'robot', secret: 'robot secret', grantTypes: ['client_credentials'] });
  await server.seedClient({ id: 'web', secret: 'web secret' });
  await server.seedClient({ id: 'cli', public: true, grantTypes: ['authorization_code', GRANT] });
  gateway = await relyingParty('gateway');
});
afterAll(() => server.close());

function relyingParty(id: string): Promise<client.Configuration> {
  const secret = `${id} secret`;
  return client.discovery(new URL(server.issuer), id, secret, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
}

/** A login of Alice at `clientId` (a seeded code redeemed), as its tokens. */
async function login(clientId = 'gateway', scopes = ['openid', 'email', 'profile', 'groups', 'offline_access'], options: { loginSession?: boolean } = {}) {
  const seeded = await server.seedCode({ clientId, scopes, ...(options.loginSession && { loginSession: true }) });
  const response = await server.post('/token', {
    grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback', code_verifier: seeded.verifier,
  }, { authorization: basic(clientId, `${clientId} secret`) });
  const body = (await response.json()) as { access_token: string; id_token: string; refresh_token?: string };
  return { ...body, sid: seeded.record.sessionId };
}

async function exchange(config: client.Configuration, parameters: Record<string, string>) {
  return client.genericGrantRequest(config, GRANT, parameters);
}

async function verified(token: string, typ: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${server.issuer}/keys`)), {
    issuer: server.issuer, typ, currentDate: new Date(server.clock()),
  });
  return payload;
}

/** The error code of a refused exchange, sent raw (a well-behaved client never sends most of these). */
async function refusal(form: Record<string, string>, clientId = 'gateway'): Promise<{ status: number; error: string }> {
  const response = await server.post('/token', { grant_type: GRANT, ...form }, clientId === 'cli' ? {} : { authorization: basic(clientId, `${clientId} secret`) });
  return { status: response.status, error: ((await response.json()) as { error: string }).error };
}

describe('token exchange of an idgate access token (openid-client as the client)', () => {
  it('issues an access token for the requested audience, keeping subject, session and claims, with act naming the client', async () => {
    const user = await login();
    const tokens = await exchange(gateway, { subject_token: user.access_token, subject_token_type: ACCESS, audience: 'orders' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.issued_token_type).toBe(ACCESS);
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid email profile groups');
    const original = decodeJwt(user.access_token);
    const payload = await verified(tokens.access_token, 'at+jwt');
    expect(payload).toMatchObject({
      sub: subjectOf(ALICE.userId, 'mock'), aud: 'orders', client_id: 'gateway', sid: user.sid, scope: 'openid email profile groups',
      email: ALICE.email, groups: ALICE.groups, name: ALICE.username, act: { sub: 'gateway' }, auth_time: original.auth_time,
    });
    expect(payload.jti).not.toBe(original.jti);
    expect(payload.exp).toBeLessThanOrEqual(original.exp!);
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'token_issued', grant: GRANT, clientId: 'gateway', sid: user.sid, userId: ALICE.userId });
  });

  it('narrows the scope and the identity claims to what is asked', async () => {
    const user = await login();
    const tokens = await exchange(gateway, { subject_token: user.access_token, subject_token_type: ACCESS, audience: 'orders', scope: 'openid email' });
    const payload = decodeJwt(tokens.access_token);
    expect(payload.scope).toBe('openid email');
    expect(payload.email).toBe(ALICE.email);
    expect(payload).not.toHaveProperty('groups');
    expect(payload).not.toHaveProperty('name');
  });

  it('defaults the audience to the client itself', async () => {
    const user = await login();
    const tokens = await exchange(gateway, { subject_token: user.access_token, subject_token_type: ACCESS });
    expect(decodeJwt(tokens.access_token).aud).toBe('gateway');
  });

  it('answers an ID token when requested_token_type asks for one, with token_type N_A', async () => {
    const user = await login();
    const tokens = await exchange(gateway, {
      subject_token: user.access_token, subject_token_type: ACCESS, audience: 'orders', requested_token_type: ID,
    });
    expect(tokens.token_type.toLowerCase()).toBe('n_a');
    expect(tokens.issued_token_type).toBe(ID);
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('JWT');
    const payload = await verified(tokens.access_token, 'JWT');
    expect(payload).toMatchObject({ aud: 'orders', azp: 'gateway', sid: user.sid, act: { sub: 'gateway' } });
    expect(payload).not.toHaveProperty('client_id');
  });

  it('accepts an ID token as the subject, its scopes read from the claims it carries', async () => {
    const user = await login('gateway', ['openid', 'email']);
    const tokens = await exchange(gateway, { subject_token: user.id_token, subject_token_type: ID, audience: 'orders' });
    expect(tokens.scope).toBe('openid email');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: 'orders', email: ALICE.email });
  });

  it('records an actor token\'s subject in act, and nests earlier actors when an exchanged token is exchanged again', async () => {
    const user = await login();
    const robot = await client.clientCredentialsGrant(await relyingParty('robot'), { audience: 'gateway' });
    const delegated = await exchange(gateway, {
      subject_token: user.access_token, subject_token_type: ACCESS, audience: 'orders', actor_token: robot.access_token, actor_token_type: ACCESS,
    });
    expect(decodeJwt(delegated.access_token).act).toEqual({ sub: 'robot' });
    const again = await exchange(await relyingParty('orders'), { subject_token: delegated.access_token, subject_token_type: ACCESS, audience: 'ledger' });
    expect(decodeJwt(again.access_token)).toMatchObject({ aud: 'ledger', client_id: 'orders', act: { sub: 'orders', act: { sub: 'robot' } } });
  });

  it('is advertised in discovery', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    expect(discovery.grant_types_supported).toContain(GRANT);
  });
});

describe('token exchange refusals', () => {
  it('refuses a missing or unsupported subject_token_type, and a missing subject_token (invalid_request)', async () => {
    const user = await login();
    expect(await refusal({ subject_token: user.access_token })).toEqual({ status: 400, error: 'invalid_request' });
    expect(await refusal({ subject_token: user.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' })).toEqual({ status: 400, error: 'invalid_request' });
    expect(await refusal({ subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('refuses a subject token of another type than subject_token_type says', async () => {
    const user = await login();
    expect(await refusal({ subject_token: user.access_token, subject_token_type: ID })).toEqual({ status: 400, error: 'invalid_request' });
    expect(await refusal({ subject_token: user.id_token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('refuses a subject token whose session, jti or subject was revoked', async () => {
    const bySession = await login();
    await revokeSession(server.ctx, { sessionId: bySession.sid, userId: ALICE.userId, clientId: 'gateway' }, 'revoked_by_admin');
    expect(await refusal({ subject_token: bySession.access_token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });

    const byToken = await login();
    expect(await revokeToken(server.ctx, byToken.access_token, 'gateway')).toMatchObject({ result: 'revoked' });
    expect(await refusal({ subject_token: byToken.access_token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });

    const bySubject = await login();
    server.clock.advance(1000);
    await revokeSubject(server.ctx, { userId: ALICE.userId, connectorId: 'mock' }, 'revoked_by_admin');
    expect(await refusal({ subject_token: bySubject.id_token, subject_token_type: ID })).toEqual({ status: 400, error: 'invalid_request' });
    // A login after the subject's revocation exchanges again.
    server.clock.advance(1000);
    const fresh = await login();
    expect((await exchange(gateway, { subject_token: fresh.access_token, subject_token_type: ACCESS })).issued_token_type).toBe(ACCESS);
  });

  it("refuses, and denies at /userinfo, a token exchanged from an access token whose refresh token was revoked since", async () => {
    // A browser login session's family: revoking it revokes its access tokens by their grant tag, not the session.
    const user = await login('gateway', undefined, { loginSession: true });
    const exchanged = await exchange(gateway, { subject_token: user.access_token, subject_token_type: ACCESS, audience: 'orders' });
    const [subjectTag, exchangedTag] = [decodeJwt(user.access_token).jti, decodeJwt(exchanged.access_token).jti].map((jti) => (jti as string).split('.')[0]);
    expect(exchangedTag).toBe(subjectTag);
    expect(await revokeToken(server.ctx, user.refresh_token!, 'gateway')).toMatchObject({ result: 'revoked', tokenType: 'refresh_token' });
    expect(await refusal({ subject_token: user.access_token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
    const userinfo = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${exchanged.access_token}` } });
    expect(userinfo.status).toBe(401);
    // The session itself, and a token exchanged from an ID token (no grant tag), are not touched.
    const other = await login('gateway', undefined, { loginSession: true });
    expect((await exchange(gateway, { subject_token: other.access_token, subject_token_type: ACCESS })).issued_token_type).toBe(ACCESS);
    expect((decodeJwt((await exchange(gateway, { subject_token: user.id_token, subject_token_type: ID })).access_token).jti as string)).not.toContain('.');
  });

  it('refuses an expired subject token', async () => {
    const user = await login();
    const now = server.clock();
    server.clock.advance(3601_000);
    try {
      expect(await refusal({ subject_token: user.access_token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
    } finally {
      server.clock.set(now);
    }
  });

  it('refuses a token of another issuer, one signed by another key, and one that is no JWT', async () => {
    const user = decodeJwt((await login()).access_token);
    const foreignIssuer = await server.ctx.signer.sign({ ...user, iss: 'https://elsewhere.example' }, { typ: 'at+jwt' });
    const { privateKey } = await generateKeyPair('ES256');
    const foreignKey = await new SignJWT(user).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(privateKey);
    for (const token of [foreignIssuer, foreignKey, 'not-a-token']) {
      expect(await refusal({ subject_token: token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
    }
  });

  it('refuses a subject token that was neither issued to nor meant for the requesting client', async () => {
    const atWeb = await login('web');
    expect(await refusal({ subject_token: atWeb.access_token, subject_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('refuses an audience that does not trust the client, or that does not exist (invalid_target)', async () => {
    const user = await login();
    expect(await refusal({ subject_token: user.access_token, subject_token_type: ACCESS, audience: 'reports' })).toEqual({ status: 400, error: 'invalid_target' });
    expect(await refusal({ subject_token: user.access_token, subject_token_type: ACCESS, audience: 'nobody' })).toEqual({ status: 400, error: 'invalid_target' });
  });

  it('refuses a scope the subject token does not carry', async () => {
    const user = await login('gateway', ['openid', 'email']);
    expect(await refusal({ subject_token: user.access_token, subject_token_type: ACCESS, scope: 'openid groups' })).toEqual({ status: 400, error: 'invalid_scope' });
  });

  it('refuses a client that does not list the grant, and a public client that does', async () => {
    const atWeb = await login('web');
    expect(await refusal({ subject_token: atWeb.access_token, subject_token_type: ACCESS }, 'web')).toEqual({ status: 400, error: 'unauthorized_client' });
    expect(await refusal({ client_id: 'cli', subject_token: atWeb.access_token, subject_token_type: ACCESS }, 'cli')).toEqual({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a malformed actor: a token without its type, a type without a token, an actor token not for the client', async () => {
    const user = await login();
    const atWeb = await login('web');
    const base = { subject_token: user.access_token, subject_token_type: ACCESS };
    expect(await refusal({ ...base, actor_token: user.access_token })).toEqual({ status: 400, error: 'invalid_request' });
    expect(await refusal({ ...base, actor_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
    expect(await refusal({ ...base, actor_token: atWeb.access_token, actor_token_type: ACCESS })).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('refuses a requested_token_type it does not issue', async () => {
    const user = await login();
    const requested = 'urn:ietf:params:oauth:token-type:refresh_token';
    expect(await refusal({ subject_token: user.access_token, subject_token_type: ACCESS, requested_token_type: requested })).toEqual({ status: 400, error: 'invalid_request' });
  });
});
