// Token exchange of an upstream provider's token through the oidc connector (Dex's connector_id
// extension), against a real upstream: panva's oidc-provider issues a genuine ID token (and an access
// token) to a login played over HTTP; openid-client v6's genericGrantRequest then exchanges it at idgate.
import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFactory, type Connector } from '../../src/connector.js';
import '../../connectors/index.js';
import { subjectOf } from '../../src/oidc/claims.js';
import { testContext } from '../connectors/context.js';
import { browseUpstream, startUpstreamIdP, type UpstreamIdP } from '../connectors/oidc/upstream-idp.js';
import { basic, startTestServer, type TestServer } from './harness.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const ID = 'urn:ietf:params:oauth:token-type:id_token';
const CALLBACK = 'http://127.0.0.1:5556/workload/callback';

let upstream: UpstreamIdP;
let server: TestServer;
let ci: client.Configuration;
/** Alice's tokens from a real login at the upstream. */
let upstreamTokens: { id_token: string; access_token: string };

async function openOIDC(id: string, config: Record<string, unknown> = {}): Promise<Connector> {
  const factory = connectorFactory('oidc')!;
  const parsed = factory.configSchema.parse({ issuer: upstream.issuer, clientID: upstream.clientId, clientSecret: upstream.clientSecret, ...config });
  return factory.open(parsed, testContext(id, { now: () => server.clock() }));
}

/** What a workload holds: tokens from a login at the upstream, as its own RP (the upstream's client). */
async function upstreamLogin(): Promise<{ id_token: string; access_token: string }> {
  const rp = await client.discovery(new URL(upstream.issuer), upstream.clientId, upstream.clientSecret, client.ClientSecretBasic(upstream.clientSecret), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  upstream.nextAccount = 'alice';
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: CALLBACK, scope: 'openid email profile groups', state: 'st',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const tokens = await client.authorizationCodeGrant(rp, await browseUpstream(url.href, CALLBACK), { pkceCodeVerifier: verifier, expectedState: 'st' });
  return { id_token: tokens.id_token!, access_token: tokens.access_token };
}

/** The upstream's ID token with claims changed, re-signed with the upstream's own key (a genuine signature). */
async function resigned(claims: Record<string, unknown>): Promise<string> {
  const payload = { ...decodeJwt(upstreamTokens.id_token), ...claims };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(decodeProtectedHeader(upstreamTokens.id_token) as { alg: string })
    .sign(upstream.signingKey);
}

beforeAll(async () => {
  upstream = await startUpstreamIdP({ redirectURIs: [CALLBACK] });
  upstream.accounts.set('alice', {
    sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true, preferred_username: 'alice', groups: ['admins', 'devs'],
  });
  server = await startTestServer();
  server.ctx.connectors.set('corp', { id: 'corp', type: 'oidc', name: 'Corp', connector: await openOIDC('corp', { insecureEnableGroups: true }) });
  server.ctx.connectors.set('corp-userinfo', {
    id: 'corp-userinfo', type: 'oidc', name: 'Corp (userinfo)', connector: await openOIDC('corp-userinfo', { insecureEnableGroups: true, getUserInfo: true }),
  });
  server.ctx.connectors.set('closed', {
    id: 'closed', type: 'oidc', name: 'Closed', grantTypes: ['authorization_code'], connector: await openOIDC('closed'),
  });
  await server.seedClient({ id: 'ci', secret: 'ci secret', grantTypes: [GRANT] });
  await server.seedClient({ id: 'ci-ldap-only', secret: 'ldap secret', grantTypes: [GRANT], allowedConnectors: ['ldap'] });
  await server.seedClient({ id: 'deploy', secret: 'deploy secret', trustedPeers: ['ci'] });
  ci = await client.discovery(new URL(server.issuer), 'ci', 'ci secret', client.ClientSecretBasic('ci secret'), { execute: [client.allowInsecureRequests] });
  upstreamTokens = await upstreamLogin();
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});

async function refusal(form: Record<string, string>, clientId = 'ci', secret = 'ci secret'): Promise<{ status: number; error: string; description: string }> {
  const response = await server.post('/token', { grant_type: GRANT, ...form }, { authorization: basic(clientId, secret) });
  const body = (await response.json()) as { error: string; error_description: string };
  return { status: response.status, error: body.error, description: body.error_description };
}

describe('token exchange of an upstream ID token through the oidc connector', () => {
  it('issues an idgate access token for the identity the upstream token names, mapped as a login would be', async () => {
    const tokens = await client.genericGrantRequest(ci, GRANT, {
      connector_id: 'corp', subject_token: upstreamTokens.id_token, subject_token_type: ID, scope: 'openid email groups profile', audience: 'deploy',
    });
    expect(tokens.issued_token_type).toBe(ACCESS);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    const payload = decodeJwt(tokens.access_token);
    expect(payload).toMatchObject({
      iss: server.issuer, sub: subjectOf('alice', 'corp'), aud: 'deploy', client_id: 'ci', scope: 'openid email groups profile',
      email: 'alice@example.com', email_verified: true, groups: ['admins', 'devs'], name: 'Alice Liddell', preferred_username: 'alice',
    });
    // A login without a browser: no session, and no actor unless an actor token is given.
    expect(payload).not.toHaveProperty('sid');
    expect(payload).not.toHaveProperty('act');
    // Never longer than the upstream token it came from.
    expect(payload.exp).toBeLessThanOrEqual(decodeJwt(upstreamTokens.id_token).exp!);
    expect(server.audit.events.at(-1)).toMatchObject({ event: 'token_issued', grant: GRANT, connectorId: 'corp', userId: 'alice' });
  });

  it('answers an ID token when requested', async () => {
    const tokens = await client.genericGrantRequest(ci, GRANT, {
      connector_id: 'corp', subject_token: upstreamTokens.id_token, subject_token_type: ID, requested_token_type: ID, scope: 'openid email',
    });
    expect(tokens.issued_token_type).toBe(ID);
    expect(tokens.token_type.toLowerCase()).toBe('n_a');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: subjectOf('alice', 'corp'), aud: 'ci', azp: 'ci', email: 'alice@example.com' });
  });

  it('exchanges an upstream access token through userinfo when the connector has getUserInfo', async () => {
    const tokens = await client.genericGrantRequest(ci, GRANT, {
      connector_id: 'corp-userinfo', subject_token: upstreamTokens.access_token, subject_token_type: ACCESS, scope: 'openid groups',
    });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: subjectOf('alice', 'corp-userinfo'), groups: ['admins', 'devs'] });
  });

  it('refuses an upstream access token without getUserInfo, naming the option', async () => {
    const refused = await refusal({ connector_id: 'corp', subject_token: upstreamTokens.access_token, subject_token_type: ACCESS });
    expect(refused).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(refused.description).toContain('getUserInfo');
  });

  it.each<[string, () => Promise<string>, string]>([
    ['an ID token for another relying party', () => resigned({ aud: 'another-client' }), '"aud"'],
    ['an expired ID token', () => resigned({ exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 1200 }), '"exp"'],
    ['an ID token from another issuer', () => resigned({ iss: 'https://elsewhere.example' }), '"iss"'],
    ['a tampered ID token', async () => {
      const [header, , signature] = upstreamTokens.id_token.split('.');
      return `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(upstreamTokens.id_token), sub: 'mallory' })).toString('base64url')}.${signature}`;
    }, 'signature'],
  ])('refuses %s (invalid_request)', async (_name, token, reason) => {
    const refused = await refusal({ connector_id: 'corp', subject_token: await token(), subject_token_type: ID });
    expect(refused).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(refused.description).toContain(reason);
  });

  it('refuses an unknown connector, one that cannot verify tokens, and one whose grantTypes leave exchange out', async () => {
    const base = { subject_token: upstreamTokens.id_token, subject_token_type: ID };
    expect(await refusal({ ...base, connector_id: 'nope' })).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await refusal({ ...base, connector_id: 'mock' })).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await refusal({ ...base, connector_id: 'closed' })).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a client limited to other connectors (allowedConnectors)', async () => {
    const refused = await refusal({ connector_id: 'corp', subject_token: upstreamTokens.id_token, subject_token_type: ID }, 'ci-ldap-only', 'ldap secret');
    expect(refused).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses an audience that does not trust the client', async () => {
    const refused = await refusal({ connector_id: 'corp', subject_token: upstreamTokens.id_token, subject_token_type: ID, audience: 'ci-ldap-only' });
    expect(refused).toMatchObject({ status: 400, error: 'invalid_target' });
  });
});
