// The client_credentials grant (RFC 6749 §4.4) driven by openid-client v6's clientCredentialsGrant as a
// real client, and the filter's JWT authentication accepting the token it gets (no sid, no auth_time).
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterConfig } from '../../src/authz/config.js';
import { Authenticator } from '../../src/authz/jwt/authenticate.js';
import { subjectOf } from '../../src/oidc/claims.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { basic, startTestServer, type TestServer } from './harness.js';

let server: TestServer;

const SERVICE = { id: 'svc', secret: 'svc secret' };

beforeAll(async () => {
  server = await startTestServer();
  await server.seedClient({
    ...SERVICE, grantTypes: ['client_credentials'], scopes: ['orders:read', 'orders:write', 'openid'], resources: ['https://orders.example/api'],
  });
  await server.seedClient({ id: 'api', secret: 'api secret', trustedPeers: ['svc'] });
  await server.seedClient({ id: 'stranger', secret: 'stranger secret' });
  await server.seedClient({ id: 'open-scopes', secret: 'open secret', grantTypes: ['client_credentials'] });
  await server.seedClient({ id: 'web', secret: 'web secret' });
  await server.seedClient({ id: 'cli', public: true, grantTypes: ['client_credentials', 'authorization_code'] });
  await server.seedClient({ id: subjectOf('u-alice', 'mock'), secret: 'lookalike secret', grantTypes: ['client_credentials'] });
});
afterAll(() => server.close());

async function rp(id: string, secret: string): Promise<client.Configuration> {
  return client.discovery(new URL(server.issuer), id, secret, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
}

async function refusal(id: string, secret: string | undefined, form: Record<string, string>): Promise<{ status: number; error: string }> {
  const response = await server.post('/token', { grant_type: 'client_credentials', ...form }, secret === undefined ? {} : { authorization: basic(id, secret) });
  const body = (await response.json()) as { error: string };
  return { status: response.status, error: body.error };
}

describe('client_credentials grant (openid-client as the client)', () => {
  it('issues an RFC 9068 access token for the client itself, and nothing else', async () => {
    const tokens = await client.clientCredentialsGrant(await rp(SERVICE.id, SERVICE.secret), { scope: 'orders:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('orders:read');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${server.issuer}/keys`)), {
      issuer: server.issuer, audience: 'svc', typ: 'at+jwt', currentDate: new Date(server.clock()),
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'svc', client_id: 'svc', aud: 'svc', scope: 'orders:read' });
    expect(payload.jti).toBeTypeOf('string');
    expect(payload).not.toHaveProperty('sid');
    expect(payload).not.toHaveProperty('auth_time');
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'token_issued', grant: 'client_credentials', clientId: 'svc', refreshTokenIssued: false });
  });

  it('grants every scope the client may ask for when none is requested, and drops openid', async () => {
    const config = await rp(SERVICE.id, SERVICE.secret);
    expect((await client.clientCredentialsGrant(config)).scope).toBe('orders:read orders:write');
    expect((await client.clientCredentialsGrant(config, { scope: 'openid orders:write' })).scope).toBe('orders:write');
  });

  it('refuses a scope beyond the client\'s scopes, and the scopes that need an end user', async () => {
    expect(await refusal('svc', SERVICE.secret, { scope: 'orders:delete' })).toEqual({ status: 400, error: 'invalid_scope' });
    for (const scope of ['email', 'profile', 'groups', 'offline_access', 'federated:id']) {
      expect(await refusal('open-scopes', 'open secret', { scope })).toEqual({ status: 400, error: 'invalid_scope' });
    }
    // Without a scopes list, only the scopes idgate knows: an API scope is unknown.
    expect(await refusal('open-scopes', 'open secret', { scope: 'orders:read' })).toEqual({ status: 400, error: 'invalid_scope' });
  });

  it('adds peers that trust the client, through Dex\'s cross-client scope or the audience parameter', async () => {
    const config = await rp(SERVICE.id, SERVICE.secret);
    const crossClient = await client.clientCredentialsGrant(config, { scope: 'orders:read audience:server:client_id:api' });
    expect(decodeJwt(crossClient.access_token).aud).toEqual(['api', 'svc']);
    const targeted = await client.clientCredentialsGrant(config, { scope: 'orders:read', audience: 'api' });
    expect(decodeJwt(targeted.access_token).aud).toBe('api');
    const resource = await client.clientCredentialsGrant(config, { scope: 'orders:read', resource: 'https://orders.example/api' });
    expect(decodeJwt(resource.access_token).aud).toBe('https://orders.example/api');
  });

  it('refuses an audience that does not trust the client (invalid_target) and a peer scope likewise (invalid_scope)', async () => {
    expect(await refusal('svc', SERVICE.secret, { audience: 'stranger' })).toEqual({ status: 400, error: 'invalid_target' });
    expect(await refusal('svc', SERVICE.secret, { audience: 'no-such-client' })).toEqual({ status: 400, error: 'invalid_target' });
    expect(await refusal('svc', SERVICE.secret, { scope: 'audience:server:client_id:stranger' })).toEqual({ status: 400, error: 'invalid_scope' });
    expect(await refusal('svc', SERVICE.secret, { resource: 'https://elsewhere.example/' })).toEqual({ status: 400, error: 'invalid_target' });
  });

  it('refuses a public client even when it lists the grant', async () => {
    expect(await refusal('cli', undefined, { client_id: 'cli' })).toEqual({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a client that does not list the grant in its grantTypes', async () => {
    expect(await refusal('web', 'web secret', {})).toEqual({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a wrong secret with 401 invalid_client', async () => {
    expect(await refusal('svc', 'not the secret', {})).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('refuses a client whose ID reads as a user\'s subject', async () => {
    expect(await refusal(subjectOf('u-alice', 'mock'), 'lookalike secret', {})).toEqual({ status: 400, error: 'unauthorized_client' });
  });
});

describe('a client_credentials token at the filter', () => {
  it('passes RequestAuthentication like any access token (no sid, no auth_time needed)', async () => {
    const tokens = await client.clientCredentialsGrant(await rp(SERVICE.id, SERVICE.secret), { scope: 'orders:read', audience: 'api' });
    const auth = new Authenticator({
      config: parseFilterConfig({ algorithms: ['ES256'] }), logger: silentLogger(), now: server.clock, keySet: server.ctx.signer, issuer: server.issuer,
    });
    try {
      const scoped = [{ source: 'test', rule: { issuer: server.issuer, audiences: ['api'] } }];
      await auth.prepare(scoped);
      const result = await auth.authenticate({ headers: { authorization: `Bearer ${tokens.access_token}` }, path: '/' }, scoped);
      expect(result.kind).toBe('authenticated');
      expect(result.kind === 'authenticated' && result.payload).toMatchObject({ sub: 'svc', client_id: 'svc', scope: 'orders:read' });
      const other = [{ source: 'test', rule: { issuer: server.issuer, audiences: ['web'] } }];
      await auth.prepare(other);
      expect((await auth.authenticate({ headers: { authorization: `Bearer ${tokens.access_token}` }, path: '/' }, other)).kind).toBe('failed');
    } finally {
      auth.close();
    }
  });
});

describe('client_credentials and the operator', () => {
  it('is advertised in discovery, and refused as unsupported when oauth2.grantTypes leaves it out', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    expect(discovery.grant_types_supported).toContain('client_credentials');
    const off = await startTestServer({ yaml: 'oauth2: { grantTypes: [authorization_code, refresh_token] }' });
    try {
      await off.seedClient({ ...SERVICE, grantTypes: ['client_credentials'] });
      const response = await off.post('/token', { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('unsupported_grant_type');
    } finally {
      await off.close();
    }
  });
});
