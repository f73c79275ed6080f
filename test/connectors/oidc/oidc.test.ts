// The oidc connector against a real upstream (oidc-provider on 127.0.0.1): login, claim mapping,
// groups via userinfo, allowedGroups, upstream refresh, and every refused upstream answer.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFactory, type CallbackConnector, type Identity, type RefreshConnector } from '../../../src/connector.js';
import '../../../connectors/index.js';
import { fetchTrusting } from '../../../connectors/oidc/tls-fetch.js';
import { refusal, testContext } from '../context.js';
import { makeCertificates } from '../ldap/slapd.js';
import { browseUpstream, listen, startUpstreamIdP, type UpstreamIdP } from './upstream-idp.js';

const CALLBACK = 'http://127.0.0.1:5556/dex/callback/corp';
const scopes = { offlineAccess: false, groups: true };
type OIDCConnector = CallbackConnector & RefreshConnector;

let idp: UpstreamIdP;
let conforming: UpstreamIdP;
const servers: Server[] = [];

async function open(config: Record<string, unknown>, upstream = idp): Promise<OIDCConnector> {
  const factory = connectorFactory('oidc')!;
  const parsed = factory.configSchema.parse({
    issuer: upstream.issuer,
    clientID: upstream.clientId,
    clientSecret: upstream.clientSecret,
    redirectURI: CALLBACK,
    ...config,
  });
  return (await factory.open(parsed, testContext('corp'))) as OIDCConnector;
}

async function login(connector: OIDCConnector, options: { offline?: boolean; account?: string; upstream?: UpstreamIdP } = {}) {
  (options.upstream ?? idp).nextAccount = options.account ?? 'alice';
  const s = { ...scopes, offlineAccess: options.offline ?? false };
  const { url, connectorData } = await connector.loginURL(s, CALLBACK, 'state-123');
  const callback = await browseUpstream(url, CALLBACK);
  return { callback, connectorData, identity: () => connector.handleCallback(s, connectorData, { url: callback }) };
}

/** A token endpoint in front of the real one that rewrites the ID token (re-signed with the upstream's key unless `breakSignature`). */
async function tamperingTokenEndpoint(
  change: { claims?: Record<string, unknown>; breakSignature?: boolean },
  seen: Array<{ authorization?: string; body: string }> = [],
): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      seen.push({ authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
      const upstream = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type']!, ...(req.headers.authorization && { authorization: req.headers.authorization }) },
        body: Buffer.concat(chunks),
      });
      const body = (await upstream.json()) as { id_token?: string };
      if (body.id_token) {
        if (change.breakSignature) {
          const [h, p, sig] = body.id_token.split('.');
          body.id_token = `${h}.${p}.${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`;
        } else {
          const payload = { ...decodeJwt(body.id_token), ...change.claims };
          body.id_token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
            .setProtectedHeader(decodeProtectedHeader(body.id_token) as { alg: string })
            .sign(idp.signingKey);
        }
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  servers.push(server);
  return `http://127.0.0.1:${await listen(server)}/token`;
}

beforeAll(async () => {
  idp = await startUpstreamIdP({ redirectURIs: [CALLBACK] });
  conforming = await startUpstreamIdP({ redirectURIs: [CALLBACK], conformIdTokenClaims: true });
  for (const upstream of [idp, conforming]) {
    upstream.accounts.set('alice', {
      sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true,
      preferred_username: 'alice', groups: ['admins', 'devs'],
    });
    upstream.accounts.set('bob', { sub: 'bob', name: 'Bob', email: 'bob@example.com', email_verified: true, groups: ['sales'] });
    upstream.accounts.set('eve', { sub: 'eve', name: 'Eve', email: 'eve@example.com' });
  }
});

afterAll(async () => {
  await Promise.all([idp?.close(), conforming?.close(), ...servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); }))]);
});

describe('oidc connector: login through a real upstream', () => {
  it('sends PKCE (S256), state and nonce, and maps the upstream claims to the identity', async () => {
    const connector = await open({ insecureEnableGroups: true, scopes: ['profile', 'email', 'groups'] });
    const attempt = await login(connector);
    const { url } = await connector.loginURL(scopes, CALLBACK, 'state-123');
    const sent = new URL(url).searchParams;
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('state')).toBe('state-123');
    expect(sent.get('scope')).toBe('openid profile email groups');
    expect(attempt.callback.searchParams.get('iss')).toBe(idp.issuer);
    const identity = await attempt.identity();
    expect(identity).toMatchObject({
      userId: 'alice', username: 'Alice Liddell', preferredUsername: 'alice',
      email: 'alice@example.com', emailVerified: true, groups: ['admins', 'devs'],
    });
  });

  it('ignores upstream groups unless insecureEnableGroups is set', async () => {
    const identity = await (await login(await open({ scopes: ['profile', 'email', 'groups'] }))).identity();
    expect(identity.groups).toBeUndefined();
  });

  it('reads groups from userinfo when getUserInfo is set (the ID token carries only sub)', async () => {
    const connector = await open({ insecureEnableGroups: true, getUserInfo: true, scopes: ['profile', 'email', 'groups'] }, conforming);
    const identity = await (await login(connector, { upstream: conforming })).identity();
    expect(identity).toMatchObject({ userId: 'alice', username: 'Alice Liddell', groups: ['admins', 'devs'] });
  });

  it('refuses a login whose user-name claim is missing, naming the claim', async () => {
    const connector = await open({ scopes: ['profile', 'email'] }, conforming);
    const error = await refusal((await login(connector, { upstream: conforming })).identity());
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/"name" claim/);
  });

  it('maps claims with claimMapping and userNameKey', async () => {
    const connector = await open({ userNameKey: 'email', claimMapping: { preferred_username: 'name' }, overrideClaimMapping: true });
    const identity = await (await login(connector)).identity();
    expect(identity).toMatchObject({ username: 'alice@example.com', preferredUsername: 'Alice Liddell' });
  });

  it('refuses an unverified email unless insecureSkipEmailVerified is set', async () => {
    const error = await refusal((await login(await open({}), { account: 'eve' })).identity());
    expect(error.message).toMatch(/email_verified/);
    const identity = await (await login(await open({ insecureSkipEmailVerified: true }), { account: 'eve' })).identity();
    expect(identity).toMatchObject({ email: 'eve@example.com', emailVerified: true });
  });

  it('refuses a person outside allowedGroups, and narrows and prefixes the groups of one inside', async () => {
    const config = {
      insecureEnableGroups: true, scopes: ['profile', 'email', 'groups'], allowedGroups: ['admins'],
      claimModifications: { modifyGroupNames: { prefix: 'corp:' } },
    };
    const error = await refusal((await login(await open(config), { account: 'bob' })).identity());
    expect(error.code).toBe('not_in_allowed_groups');
    expect(error.message).toMatch(/"Bob" is not a member of any group allowed/);
    const identity = await (await login(await open(config))).identity();
    expect(identity.groups).toEqual(['corp:admins']);
  });

  it('sends promptType when offline_access is asked for, and acrValues', async () => {
    const connector = await open({ promptType: 'login', acrValues: ['urn:example:mfa', 'urn:example:pwd'] });
    const offline = new URL((await connector.loginURL({ ...scopes, offlineAccess: true }, CALLBACK, 's')).url).searchParams;
    expect(offline.get('prompt')).toBe('login');
    expect(offline.get('scope')).toBe('openid profile email offline_access');
    expect(offline.get('acr_values')).toBe('urn:example:mfa urn:example:pwd');
    const online = new URL((await connector.loginURL(scopes, CALLBACK, 's')).url).searchParams;
    expect(online.get('prompt')).toBeNull();
    expect(online.get('scope')).toBe('openid profile email');
  });

  it('uses userIDKey as the user ID, and claimMapping.groups when the groups claim is missing or overridden', async () => {
    const mapped = await open({ userIDKey: 'email', insecureEnableGroups: true, claimMapping: { groups: 'preferred_username' } });
    const alice = await (await login(mapped)).identity();
    expect(alice.userId).toBe('alice@example.com');
    expect(alice.groups).toEqual(['alice']); // no groups scope asked: no groups claim, the mapping is used
    const standard = { insecureEnableGroups: true, scopes: ['profile', 'email', 'groups'], claimMapping: { groups: 'preferred_username' } };
    expect((await (await login(await open(standard))).identity()).groups).toEqual(['admins', 'devs']);
    expect((await (await login(await open({ ...standard, overrideClaimMapping: true }))).identity()).groups).toEqual(['alice']);
  });

  it('sends the client secret in the body with basicAuthUnsupported, else with HTTP Basic', async () => {
    const seen: Array<{ authorization?: string; body: string }> = [];
    const tokenURL = await tamperingTokenEndpoint({ claims: {} }, seen);
    await (await login(await open({ basicAuthUnsupported: true, providerDiscoveryOverrides: { tokenURL } }))).identity();
    expect(seen.pop()).toEqual({ authorization: undefined, body: expect.stringContaining(`client_secret=${idp.clientSecret}`) });
    await (await login(await open({ providerDiscoveryOverrides: { tokenURL } }))).identity();
    const basic = seen.pop()!;
    expect(basic.authorization).toMatch(/^Basic /);
    expect(basic.body).not.toContain('client_secret');
  });

  it('builds groups with newGroupFromClaims and filters with filterGroupClaims', async () => {
    const connector = await open({
      insecureEnableGroups: true, scopes: ['profile', 'email', 'groups'],
      claimModifications: {
        newGroupFromClaims: [{ claims: ['preferred_username', 'email'], delimiter: '/', prefix: 'user' }],
        filterGroupClaims: { groupsFilter: '^dev' },
      },
    });
    const identity = await (await login(connector)).identity();
    expect(identity.groups).toEqual(['devs', 'user/alice/alice@example.com']);
  });
});

describe('oidc connector: upstream refresh', () => {
  it('refreshes upstream and re-reads the claims', async () => {
    const connector = await open({ insecureEnableGroups: true, getUserInfo: true, scopes: ['profile', 'email', 'groups'] });
    const first = await (await login(connector, { offline: true })).identity();
    idp.accounts.get('alice')!.groups = ['admins', 'devs', 'ops'];
    try {
      const refreshed: Identity = await connector.refresh({ ...scopes, offlineAccess: true }, first);
      expect(refreshed).toMatchObject({ userId: 'alice', groups: ['admins', 'devs', 'ops'] });
      expect(refreshed.connectorData).toBeDefined();
    } finally {
      idp.accounts.get('alice')!.groups = ['admins', 'devs'];
    }
  });

  it('fails with access_denied when the upstream refuses the refresh token', async () => {
    const connector = await open({ scopes: ['profile', 'email'] });
    const first = await (await login(connector, { offline: true, account: 'bob' })).identity();
    idp.accounts.get('bob')!.disabled = true;
    try {
      const error = await refusal(connector.refresh({ ...scopes, offlineAccess: true }, first));
      expect(error.code).toBe('access_denied');
      expect(error.message).toMatch(/refresh request with invalid_grant/);
    } finally {
      idp.accounts.get('bob')!.disabled = false;
    }
  });

  it('refuses to refresh a login that got no upstream refresh token', async () => {
    const connector = await open({});
    const first = await (await login(connector)).identity();
    const error = await refusal(connector.refresh(scopes, first));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/no refresh token/);
  });
});

describe('oidc connector: refused upstream answers', () => {
  const cases: Array<[string, { claims?: Record<string, unknown>; breakSignature?: boolean }, RegExp]> = [
    ['an ID token with a bad signature', { breakSignature: true }, /signature/i],
    ['an ID token with the wrong nonce', { claims: { nonce: 'not-the-nonce-we-sent' } }, /"nonce" claim/],
    ['an ID token from the wrong issuer', { claims: { iss: 'http://127.0.0.1:1/evil' } }, /"iss" \(issuer\) claim/],
    ['an ID token for another audience', { claims: { aud: 'another-client' } }, /"aud" \(audience\) claim/],
    ['an expired ID token', { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }, /"exp"/],
  ];
  for (const [name, change, reason] of cases) {
    it(`refuses ${name}`, async () => {
      const tokenURL = await tamperingTokenEndpoint(change);
      const connector = await open({ providerDiscoveryOverrides: { tokenURL } });
      const error = await refusal((await login(connector)).identity());
      expect(error.code).toBe('invalid_response');
      expect(error.message).toMatch(reason);
    });
  }

  it('accepts the same ID token passed through the proxy unchanged (the proxy itself is not the failure)', async () => {
    const tokenURL = await tamperingTokenEndpoint({ claims: {} });
    const identity = await (await login(await open({ providerDiscoveryOverrides: { tokenURL } }))).identity();
    expect(identity.userId).toBe('alice');
  });

  it('refuses an authorization response whose RFC 9207 iss is not the upstream', async () => {
    const connector = await open({});
    const attempt = await login(connector);
    attempt.callback.searchParams.set('iss', 'http://127.0.0.1:1/evil');
    const error = await refusal(connector.handleCallback(scopes, attempt.connectorData, { url: attempt.callback }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/"iss"/);
  });

  it('refuses a callback whose state is not the one sent', async () => {
    const connector = await open({});
    const attempt = await login(connector);
    attempt.callback.searchParams.set('state', 'forged');
    const error = await refusal(connector.handleCallback(scopes, attempt.connectorData, { url: attempt.callback }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/"state"/);
  });

  it('refuses a code replayed with the PKCE verifier of another login', async () => {
    const connector = await open({});
    const first = await login(connector);
    const second = await login(connector);
    const error = await refusal(connector.handleCallback(scopes, second.connectorData, { url: first.callback }));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/invalid_grant/);
  });

  it('reports an upstream error answer (error=access_denied) as a refusal', async () => {
    const connector = await open({});
    const { connectorData } = await connector.loginURL(scopes, CALLBACK, 'state-123');
    const url = new URL(`${CALLBACK}?error=access_denied&error_description=user+cancelled&state=state-123&iss=${encodeURIComponent(idp.issuer)}`);
    const error = await refusal(connector.handleCallback(scopes, connectorData, { url }));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/user cancelled/);
  });
});

describe('oidc connector: upstream down or slow', () => {
  it('fails fast with upstream_unavailable when nothing listens', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const connector = await open({ issuer: `http://127.0.0.1:${port}` });
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/could not be reached/);
  });

  it('gives up after upstreamTimeout when the upstream never answers', async () => {
    const silent = createServer(() => undefined);
    servers.push(silent);
    const port = await listen(silent);
    const connector = await open({ issuer: `http://127.0.0.1:${port}`, upstreamTimeout: '300ms' });
    const started = Date.now();
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/did not answer the discovery request in time/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('retries discovery after a failure instead of caching it', async () => {
    const connector = await open({ issuer: 'http://127.0.0.1:1' });
    await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
  });
});

describe('oidc connector: TLS to the upstream (rootCAs)', () => {
  let tlsIdP: UpstreamIdP;
  let dir: string;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idgate-oidc-tls-'));
    const files = await makeCertificates(dir);
    ca = await readFile(files.ca, 'utf8');
    tlsIdP = await startUpstreamIdP({ redirectURIs: [CALLBACK], tls: { key: await readFile(files.key, 'utf8'), cert: await readFile(files.cert, 'utf8') } });
    tlsIdP.accounts.set('alice', { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true });
  });
  afterAll(async () => {
    await tlsIdP?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in over https trusting the CA given in rootCAs (discovery, token, JWKS and userinfo)', async () => {
    const connector = await open({ rootCAs: [join(dir, 'ca.pem')], getUserInfo: true }, tlsIdP);
    tlsIdP.nextAccount = 'alice';
    const { url, connectorData } = await connector.loginURL(scopes, CALLBACK, 'state-123');
    const callback = await browseUpstream(url, CALLBACK, fetchTrusting([ca]));
    expect((await connector.handleCallback(scopes, connectorData, { url: callback })).email).toBe('alice@example.com');
  });

  it('refuses an upstream whose certificate is not trusted', async () => {
    const error = await refusal((await open({}, tlsIdP)).loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  });
});

describe('oidc connector: config', () => {
  const schema = () => connectorFactory('oidc')!.configSchema;
  it('refuses allowedGroups without insecureEnableGroups, at that key', () => {
    const result = schema().safeParse({ issuer: 'https://idp.example.com', clientID: 'x', allowedGroups: ['a'] });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ path: ['allowedGroups'], message: expect.stringMatching(/insecureEnableGroups/) });
  });
  it('refuses plain http to a non-loopback issuer, and Dex options idgate does not take, with the reason', () => {
    const result = schema().safeParse({
      issuer: 'http://idp.example.com', clientID: 'x', hostedDomains: ['a'], insecureSkipVerify: true, issuerAlias: 'https://a', hostDomains: 1,
    });
    const messages = result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    const plainHttp = schema().safeParse({ issuer: 'http://idp.example.com', clientID: 'x' });
    expect(plainHttp.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
      'issuer: must be an https URL (plain http only for 127.0.0.1 or localhost)',
    ]);
    expect(messages).toEqual(expect.arrayContaining([
      expect.stringMatching(/^hostedDomains: was removed/),
      expect.stringMatching(/^insecureSkipVerify: is not supported: put the upstream's CA in rootCAs/),
      expect.stringMatching(/^issuerAlias: is not supported/),
      expect.stringMatching(/hostDomains/),
    ]));
  });
  it('refuses redirectURI that is not the callback', async () => {
    const connector = await open({ redirectURI: 'http://127.0.0.1:5556/dex/callback/other' });
    const error = await refusal(connector.loginURL(scopes, CALLBACK, 's'));
    expect(error.code).toBe('misconfigured');
  });
});
