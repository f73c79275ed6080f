// The token side of the OP driven by openid-client v6 as a real relying party: discovery, the
// authorization_code grant with PKCE, state and nonce, signature checks, refresh and /userinfo.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../src/oidc/claims.js';
import { ALICE, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
let rp: client.Configuration;

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({ id: 'web', secret: 'web secret' });
  await server.seedClient({ id: 'api', secret: 'api-secret', trustedPeers: ['web'] });
  rp = await client.discovery(new URL(server.issuer), 'web', 'web secret', client.ClientSecretBasic('web secret'), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(rp);
});
afterAll(() => server.close());

async function redeem(seeded: { code: string; verifier: string; nonce: string }) {
  const callback = new URL(`https://rp.example/callback?code=${seeded.code}&state=st&iss=${encodeURIComponent(server.issuer)}`);
  return client.authorizationCodeGrant(rp, callback, {
    pkceCodeVerifier: seeded.verifier,
    expectedState: 'st',
    expectedNonce: seeded.nonce,
    idTokenExpected: true,
  });
}

describe('authorization_code grant (openid-client as the RP)', () => {
  it('issues a verified ID token, a JWT access token and a refresh token', async () => {
    const seeded = await server.seedCode();
    const tokens = await redeem(seeded);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('openid email profile groups offline_access');
    expect(tokens.refresh_token).toMatch(new RegExp(`^${seeded.record.sessionId}\\.[A-Za-z0-9_-]+$`));
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: server.issuer,
      sub: subjectOf(ALICE.userId, 'mock'),
      aud: 'web',
      azp: 'web',
      nonce: seeded.nonce,
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Liddell',
      preferred_username: 'alice',
      groups: ['admins', 'dev'],
      auth_time: seeded.record.authTime,
      sid: seeded.record.sessionId,
    });
    // at_hash: left half of SHA-256 of the access token (ES256), binding the two tokens.
    const digest = createHash('sha256').update(tokens.access_token).digest();
    expect(claims.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
  });

  it('issues an RFC 9068 access token (typ at+jwt) with client_id, scope, sid and jti', async () => {
    const seeded = await server.seedCode();
    const tokens = await redeem(seeded);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const at = decodeJwt(tokens.access_token);
    expect(at).toMatchObject({
      iss: server.issuer, sub: subjectOf(ALICE.userId, 'mock'), aud: 'web', client_id: 'web',
      scope: 'openid email profile groups offline_access', sid: seeded.record.sessionId, groups: ['admins', 'dev'],
      email: 'alice@example.com',
    });
    expect(at.jti).toBeTypeOf('string');
    expect(at.exp! - at.iat!).toBe(3600);
  });

  it('gives a stable, Dex-compatible subject per user and connector', () => {
    // base64url(protobuf{1: "u-alice", 2: "mock"}), as Dex's GenSubject.
    expect(subjectOf('u-alice', 'mock')).toBe(Buffer.from('\n\x07u-alice\x12\x04mock', 'latin1').toString('base64url'));
    expect(subjectOf('u-alice', 'ldap')).not.toBe(subjectOf('u-alice', 'mock'));
  });

  it('releases only the claims the scopes granted, and no refresh token without offline_access', async () => {
    const tokens = await redeem(await server.seedCode({ scopes: ['openid'] }));
    const claims = tokens.claims()!;
    for (const name of ['email', 'email_verified', 'name', 'preferred_username', 'groups', 'federated_claims']) {
      expect(claims).not.toHaveProperty(name);
    }
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('adds federated_claims for federated:id', async () => {
    const tokens = await redeem(await server.seedCode({ scopes: ['openid', 'federated:id'] }));
    expect(tokens.claims()!.federated_claims).toEqual({ connector_id: 'mock', user_id: 'u-alice' });
  });

  it('adds a trusted peer to aud for audience:server:client_id:<peer>', async () => {
    const tokens = await redeem(await server.seedCode({ scopes: ['openid', 'audience:server:client_id:api'] }));
    const claims = tokens.claims()!;
    expect(claims.aud).toEqual(['api', 'web']);
    expect(claims.azp).toBe('web');
  });

  it('does not issue a refresh token when the connector cannot refresh', async () => {
    const tokens = await redeem(await server.seedCode({ connectorId: 'saml' }));
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('answers no-store and counts the tokens it issued', async () => {
    const seeded = await server.seedCode();
    const response = await server.post('/token', {
      grant_type: 'authorization_code', code: seeded.code, redirect_uri: 'https://rp.example/callback',
      code_verifier: seeded.verifier, client_id: 'web', client_secret: 'web secret',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    const metric = await server.ctx.metrics.tokensIssued.get();
    expect(metric.values.find((v) => v.labels.grant === 'authorization_code' && v.labels.type === 'refresh_token')?.value).toBeGreaterThan(0);
    const event = server.audit.events.at(-1)!;
    expect(event).toMatchObject({ event: 'token_issued', grant: 'authorization_code', clientId: 'web' });
    expect(JSON.stringify(event)).not.toContain(seeded.code);
  });
});

describe('refresh_token grant and /userinfo (openid-client as the RP)', () => {
  it('refreshes with a rotated token and fresh, verified tokens', async () => {
    const first = await redeem(await server.seedCode());
    const refreshed = await client.refreshTokenGrant(rp, first.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    expect(refreshed.claims()!.sub).toBe(first.claims()!.sub);
    expect(refreshed.claims()!.nonce).toBeUndefined();
  });

  it('narrows the scope on request', async () => {
    const first = await redeem(await server.seedCode());
    const refreshed = await client.refreshTokenGrant(rp, first.refresh_token!, { scope: 'openid email' });
    expect(refreshed.scope).toBe('openid email');
    expect(refreshed.claims()!.groups).toBeUndefined();
  });

  it('serves the granted claims at /userinfo', async () => {
    const tokens = await redeem(await server.seedCode({ scopes: ['openid', 'email', 'groups'] }));
    const info = await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    expect(info).toEqual({ sub: subjectOf('u-alice', 'mock'), email: 'alice@example.com', email_verified: true, groups: ['admins', 'dev'] });
  });
});
