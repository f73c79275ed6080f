// The introspection endpoint (RFC 7662, and RFC 9701 signed answers) driven by openid-client v6's
// tokenIntrospection as a real client, plus raw requests for what a well-behaved client never sends:
// no or wrong credentials, a public client, no token. Every token that is not good, or not the
// caller's to know, must come back as a bare {"active": false}.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../src/oidc/claims.js';
import { revokeSession, revokeSubject } from '../../src/oidc/revocation.js';
import { revokeToken } from '../../src/oidc/revoke-endpoint.js';
import { ALICE, basic, startTestServer, type TestServer } from './harness.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({ id: 'web', secret: 'web secret', grantTypes: ['authorization_code', 'refresh_token', GRANT] });
  await server.seedClient({ id: 'api', secret: 'api secret', trustedPeers: ['web'] });
  await server.seedClient({ id: 'other', secret: 'other secret' });
  await server.seedClient({ id: 'svc', secret: 'svc secret', grantTypes: ['client_credentials'], scopes: ['orders:read'] });
  await server.seedClient({ id: 'cli', public: true });
});
afterAll(() => server.close());

function relyingParty(id: string, metadata: Partial<client.ClientMetadata> = {}): Promise<client.Configuration> {
  const secret = `${id} secret`;
  return client.discovery(new URL(server.issuer), id, { client_secret: secret, ...metadata }, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
}

/** A login of Alice at `web` whose tokens are also meant for `api` (Dex's cross-client scope). */
async function login() {
  const seeded = await server.seedCode({ clientId: 'web', scopes: ['openid', 'email', 'groups', 'offline_access', 'audience:server:client_id:api'] });
  const response = await server.post('/token', {
    grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback', code_verifier: seeded.verifier,
  }, { authorization: basic('web', 'web secret') });
  const body = (await response.json()) as { access_token: string; id_token: string; refresh_token: string };
  return { ...body, sid: seeded.record.sessionId };
}

async function introspect(id: string, token: string, extra: Record<string, string> = {}) {
  return client.tokenIntrospection(await relyingParty(id), token, extra);
}

async function raw(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return server.post('/token/introspect', form, headers);
}

describe('introspection endpoint (openid-client as the client)', () => {
  it('is advertised in discovery, without "none" among its authentication methods', async () => {
    const metadata = (await relyingParty('web')).serverMetadata();
    expect(metadata.introspection_endpoint).toBe(`${server.issuer}/token/introspect`);
    expect(metadata.introspection_endpoint_auth_methods_supported).toContain('client_secret_basic');
    expect(metadata.introspection_endpoint_auth_methods_supported).not.toContain('none');
    expect(metadata.introspection_signing_alg_values_supported).toEqual(['ES256']);
  });

  it('describes an active access token to the client it was issued to', async () => {
    const user = await login();
    const at = decodeJwt(user.access_token);
    const answer = await introspect('web', user.access_token);
    expect(answer).toMatchObject({
      active: true, token_type: 'Bearer', token_use: 'access_token', client_id: 'web', sub: subjectOf(ALICE.userId, 'mock'),
      aud: ['api', 'web'], iss: server.issuer, exp: at.exp, iat: at.iat, jti: at.jti, sid: user.sid,
      scope: 'openid email groups offline_access audience:server:client_id:api',
      ext: { email: ALICE.email, email_verified: true, groups: ALICE.groups },
    });
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'token_introspected', clientId: 'web', active: true, tokenType: 'access_token' });
  });

  it('describes it to a resource server its aud names, and to nobody else', async () => {
    const user = await login();
    expect((await introspect('api', user.access_token)).active).toBe(true);
    expect(await introspect('other', user.access_token)).toEqual({ active: false });
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'token_introspected', clientId: 'other', active: false, reason: 'other_client' });
  });

  it('describes a refresh token to its own client only, and only its current secret', async () => {
    const user = await login();
    expect(await introspect('web', user.refresh_token)).toMatchObject({
      active: true, token_use: 'refresh_token', client_id: 'web', sub: subjectOf(ALICE.userId, 'mock'), sid: user.sid, iss: server.issuer,
    });
    expect(await introspect('api', user.refresh_token)).toEqual({ active: false });
    const refreshed = await client.refreshTokenGrant(await relyingParty('web'), user.refresh_token);
    expect(await introspect('web', user.refresh_token)).toEqual({ active: false });
    expect((await introspect('web', refreshed.refresh_token!)).active).toBe(true);
  });

  it('treats token_type_hint as a hint only', async () => {
    const user = await login();
    expect((await introspect('web', user.access_token, { token_type_hint: 'refresh_token' })).active).toBe(true);
    expect((await introspect('web', user.refresh_token, { token_type_hint: 'access_token' })).active).toBe(true);
  });

  it('describes a client_credentials token (sub is the client) and an exchanged token (with act) to their audiences', async () => {
    const svc = await client.clientCredentialsGrant(await relyingParty('svc'), { scope: 'orders:read' });
    expect(await introspect('svc', svc.access_token)).toMatchObject({ active: true, sub: 'svc', client_id: 'svc', scope: 'orders:read' });
    const user = await login();
    const exchanged = await client.genericGrantRequest(await relyingParty('web'), GRANT, {
      subject_token: user.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'api',
    });
    expect(await introspect('api', exchanged.access_token)).toMatchObject({ active: true, aud: 'api', client_id: 'web', act: { sub: 'web' }, sid: user.sid });
  });
});

describe('introspection: inactive tokens', () => {
  it('answers active false for a revoked session, access token or subject', async () => {
    const bySession = await login();
    await revokeSession(server.ctx, { sessionId: bySession.sid, userId: ALICE.userId, clientId: 'web' }, 'revoked_by_admin');
    expect(await introspect('web', bySession.access_token)).toEqual({ active: false });
    expect(await introspect('web', bySession.refresh_token)).toEqual({ active: false });

    const byToken = await login();
    await revokeToken(server.ctx, byToken.access_token, 'web');
    expect(await introspect('web', byToken.access_token)).toEqual({ active: false });
    expect((await introspect('web', byToken.refresh_token)).active).toBe(true);

    const bySubject = await login();
    server.clock.advance(1000);
    await revokeSubject(server.ctx, { userId: ALICE.userId, connectorId: 'mock' }, 'revoked_by_admin');
    expect(await introspect('web', bySubject.access_token)).toEqual({ active: false });
    expect(await introspect('web', bySubject.refresh_token)).toEqual({ active: false });
    server.clock.advance(1000);
  });

  it('answers active false for an expired access token and a refresh token past its idle lifetime', async () => {
    const user = await login();
    const now = server.clock();
    const policy = server.ctx.config.expiry.refreshTokens;
    const idle = policy.validIfNotUsedFor;
    try {
      server.clock.advance(3601_000);
      expect(await introspect('web', user.access_token)).toEqual({ active: false });
      // The lifetime as configured now counts, not the one the family was stored with (as at /token).
      policy.validIfNotUsedFor = 3600_000;
      expect(await introspect('web', user.refresh_token)).toEqual({ active: false });
      policy.validIfNotUsedFor = idle;
      expect((await introspect('web', user.refresh_token)).active).toBe(true);
      server.clock.advance(2161 * 3600_000);
      expect(await introspect('web', user.refresh_token)).toEqual({ active: false });
    } finally {
      policy.validIfNotUsedFor = idle;
      server.clock.set(now);
    }
  });

  it('answers active false for garbage, a foreign JWT, one of another issuer, and an ID token', async () => {
    const user = await login();
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT(decodeJwt(user.access_token)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(privateKey);
    const otherIssuer = await server.ctx.signer.sign({ ...decodeJwt(user.access_token), iss: 'https://elsewhere.example' }, { typ: 'at+jwt' });
    for (const token of ['garbage', 'a.b', 'x.y.z', foreign, otherIssuer, user.id_token]) {
      expect(await introspect('web', token)).toEqual({ active: false });
    }
  });
});

describe('introspection: who may ask', () => {
  it('answers 401 invalid_client without client authentication, with a wrong secret, and to a public client', async () => {
    const user = await login();
    for (const [form, headers] of [
      [{ token: user.access_token }, {}],
      [{ token: user.access_token }, { authorization: basic('web', 'wrong') }],
      [{ token: user.access_token, client_id: 'cli' }, {}],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const response = await raw(form, headers);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
    }
  });

  it('answers 400 invalid_request without a token', async () => {
    const response = await raw({}, { authorization: basic('web', 'web secret') });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });
});

describe('introspection: signed answers (RFC 9701)', () => {
  it('answers a JWT for the asking client when asked with Accept, which openid-client verifies', async () => {
    const user = await login();
    const config = await relyingParty('api', { introspection_signed_response_alg: 'ES256' });
    client.enableNonRepudiationChecks(config);
    expect(await client.tokenIntrospection(config, user.access_token)).toMatchObject({ active: true, client_id: 'web', sid: user.sid });
  });

  it('signs with typ token-introspection+jwt, iss, aud (the caller) and the answer in token_introspection', async () => {
    const user = await login();
    const response = await raw({ token: user.access_token }, { authorization: basic('api', 'api secret'), accept: 'application/token-introspection+jwt' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/token-introspection+jwt');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const jwt = await response.text();
    expect(decodeProtectedHeader(jwt).typ).toBe('token-introspection+jwt');
    const { payload } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${server.issuer}/keys`)), {
      issuer: server.issuer, audience: 'api', typ: 'token-introspection+jwt', currentDate: new Date(server.clock()),
    });
    expect(payload.token_introspection).toMatchObject({ active: true, aud: ['api', 'web'] });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(payload).not.toHaveProperty('sub');
    const inactive = await raw({ token: 'garbage' }, { authorization: basic('api', 'api secret'), accept: 'application/token-introspection+jwt' });
    expect(decodeJwt(await inactive.text()).token_introspection).toEqual({ active: false });
  });
});
