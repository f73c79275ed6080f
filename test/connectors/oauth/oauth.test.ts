// The generic oauth connector against two upstreams: a plain OAuth 2.0 server (oauth-server.ts: RFC
// 6749 authorize/token endpoints with PKCE, and a userinfo URL answering Dex's default keys), and
// panva's oidc-provider used as a plain OAuth 2.0 server (its /auth, /token and /me endpoints, with
// none of its OpenID discovery), as the issue asks. No public provider is reached from here.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { fetchTrusting } from '../../../connectors/oidc/tls-fetch.js';
import { connectorFactory } from '../../../src/connector.js';
import { subjectOf } from '../../../src/oidc/claims.js';
import { CALLBACK, loginAt, offline, openUpstream, withGroups } from '../callback-bed.js';
import { refusal, testContext } from '../context.js';
import { startDownstream, type Downstream } from '../downstream.js';
import { makeCertificates } from '../ldap/slapd.js';
import { startUpstreamIdP, type UpstreamIdP } from '../oidc/upstream-idp.js';
import { startOAuthServer, type OAuthServer } from './oauth-server.js';

let basic: OAuthServer;
let postOnly: OAuthServer;
let jwtTokens: OAuthServer;
let tlsServer: OAuthServer;
let dir: string;
let ca: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idgate-oauth-'));
  const files = await makeCertificates(dir);
  ca = await readFile(files.ca, 'utf8');
  basic = await startOAuthServer();
  postOnly = await startOAuthServer({ clientAuth: 'post' });
  jwtTokens = await startOAuthServer({ tokenGroups: new Map([['ada', ['from-token', 'admins']]]) });
  tlsServer = await startOAuthServer({ tls: { key: await readFile(files.key, 'utf8'), cert: await readFile(files.cert, 'utf8') } });
  for (const server of [basic, postOnly, jwtTokens, tlsServer]) server.oauth.redirectURIs.add(CALLBACK);
});
afterAll(async () => {
  await Promise.all([basic, postOnly, jwtTokens, tlsServer].map((server) => server?.close()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const server of [basic, postOnly, jwtTokens, tlsServer]) {
    server.users.set('ada', {
      id: 1815, user_name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.com', email_verified: true,
      groups: ['admins', { name: 'analysts' }, 7],
      mail: 'ada@analytical.example', login: 'countess', verified: 'yes', teams: ['engines'],
    });
    server.oauth.nextUser = 'ada';
  }
});

const configFor = (server: OAuthServer, config: Record<string, unknown> = {}) => ({
  clientID: server.clientID, clientSecret: server.clientSecret,
  authorizationURL: `${server.origin}/oauth/authorize`, tokenURL: `${server.origin}/oauth/token`, userInfoURL: `${server.origin}/api/me`,
  scopes: ['profile', 'email'],
  ...config,
});
const open = (server: OAuthServer, config: Record<string, unknown> = {}, context = testContext('upstream')) => openUpstream('oauth', configFor(server, config), context);

describe('oauth connector: login against a plain OAuth 2.0 server', () => {
  it('sends the configured scopes, PKCE and state, and maps the userinfo with Dex\'s default keys', async () => {
    const identity = await (await loginAt(await open(basic))).identity();
    const sent = basic.oauth.authorizations.at(-1)!;
    expect(sent.get('scope')).toBe('profile email');
    expect(sent.get('state')).toBe('auth-request-1');
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(identity).toEqual({
      userId: '1815', username: 'Ada Lovelace', preferredUsername: 'ada', email: 'ada@example.com', emailVerified: true,
      groups: ['admins', 'analysts'],
      // The userinfo object as sent, for claim expressions (docs/claims.md).
      claims: expect.objectContaining({ id: 1815, login: 'countess', teams: expect.any(Array) }),
    });
  });

  it('maps other keys with userIDKey and claimMapping, and reads no groups without the groups scope', async () => {
    const connector = await open(basic, {
      userIDKey: 'login',
      claimMapping: { userNameKey: 'login', preferredUsernameKey: 'user_name', emailKey: 'mail', emailVerifiedKey: 'verified', groupsKey: 'teams' },
    });
    expect(await (await loginAt(connector)).identity()).toMatchObject({
      userId: 'countess', username: 'countess', preferredUsername: 'Ada Lovelace', email: 'ada@analytical.example', emailVerified: false, groups: ['engines'],
    });
    expect((await (await loginAt(connector, { scopes: { offlineAccess: false, groups: false } })).identity()).groups).toBeUndefined();
  });

  it('adds the groups a JWT access token carries', async () => {
    const identity = await (await loginAt(await open(jwtTokens))).identity();
    expect(identity.groups).toEqual(['admins', 'analysts', 'from-token']);
  });

  it('falls back to client_secret_post when the server refuses HTTP Basic (invalid_client)', async () => {
    const connector = await open(postOnly);
    expect((await (await loginAt(connector)).identity()).userId).toBe('1815');
    const tokenRequests = postOnly.server.requests.filter((request) => request.path === '/oauth/token');
    expect(tokenRequests.map((request) => Boolean(request.headers.authorization))).toEqual([true, false]);
    await (await loginAt(connector)).identity();
    expect(postOnly.server.requests.filter((request) => request.path === '/oauth/token').at(-1)!.headers.authorization).toBeUndefined();
  });

  it('refuses a userinfo answer without the user ID, naming the key', async () => {
    basic.users.set('ada', { user_name: 'Ada' });
    const error = await refusal((await loginAt(await open(basic))).identity());
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/has no "id"/);
  });

  it('reports an upstream error answer, a refused code and a forged state', async () => {
    basic.oauth.nextError = { error: 'temporarily_unavailable', error_description: 'try later' };
    const unavailable = await refusal((await loginAt(await open(basic))).identity());
    expect(unavailable.code).toBe('upstream_error');
    expect(unavailable.message).toMatch(/temporarily_unavailable: try later/);

    const connector = await open(basic);
    const attempt = await loginAt(connector);
    await attempt.identity();
    const replayed = await refusal(attempt.identity());
    expect(replayed.code).toBe('access_denied');
    expect(replayed.message).toMatch(/invalid_grant/);

    const next = await loginAt(connector);
    next.callback.searchParams.set('state', 'forged');
    expect((await refusal(connector.handleCallback(withGroups, next.connectorData, { url: next.callback }))).code).toBe('invalid_response');
  });
});

describe('oauth connector: TLS', () => {
  it('refuses an untrusted certificate, trusts rootCAs, and honours insecureSkipVerify with a warning', async () => {
    const browser = fetchTrusting([ca]);
    const untrusted = await refusal((await loginAt(await open(tlsServer), { browser })).identity());
    expect(untrusted.code).toBe('upstream_unavailable');
    expect((await (await loginAt(await open(tlsServer, { rootCAs: [Buffer.from(ca).toString('base64')] }), { browser })).identity()).userId).toBe('1815');

    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const connector = await open(tlsServer, { insecureSkipVerify: true }, { ...testContext('upstream'), logger });
    expect(warnings.join('')).toMatch(/insecureSkipVerify is set/);
    expect((await (await loginAt(connector, { browser })).identity()).userId).toBe('1815');
  });
});

describe('oauth connector: refresh', () => {
  it('renews an expired token with the refresh token and reads the userinfo again', async () => {
    let now = Date.now();
    const connector = await open(basic, {}, testContext('upstream', { now: () => now }));
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    basic.users.get('ada')!.groups = ['readers'];
    basic.oauth.expireAccessTokens();
    now += 3600_000;
    expect((await connector.refresh(offline, identity)).groups).toEqual(['readers']);
  });

  it('fails when the server no longer knows the person', async () => {
    const connector = await open(basic);
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    basic.oauth.revoke('ada');
    const error = await refusal(connector.refresh(offline, identity));
    expect(error.message).toMatch(/HTTP 401: invalid_token/);
  });
});

describe('oauth connector: config', () => {
  it('requires the three URLs and refuses Dex\'s claim keys outside claimMapping', () => {
    const result = connectorFactory('oauth')!.configSchema.safeParse({ clientID: 'a', userNameKey: 'login' });
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['authorizationURL', 'tokenURL', 'userInfoURL', '']);
  });
});

describe('oauth connector: oidc-provider as a plain OAuth 2.0 server', () => {
  let idp: UpstreamIdP;
  beforeAll(async () => {
    idp = await startUpstreamIdP({ redirectURIs: [CALLBACK] });
    idp.accounts.set('grace', { sub: 'grace', name: 'Grace Hopper', email: 'grace@example.com', email_verified: true, groups: ['navy', 'cobol'] });
  });
  afterAll(async () => idp?.close());

  const openAtIdP = (context = testContext('upstream')) => openUpstream('oauth', {
    clientID: idp.clientId, clientSecret: idp.clientSecret,
    authorizationURL: `${idp.issuer}/auth`, tokenURL: `${idp.issuer}/token`, userInfoURL: `${idp.issuer}/me`,
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
    userIDKey: 'sub', claimMapping: { userNameKey: 'name' },
  }, context);

  it('signs in with its code and reads /me; refresh re-reads /me while the token lives, and refuses after', async () => {
    idp.nextAccount = 'grace';
    let now = Date.now();
    const connector = await openAtIdP(testContext('upstream', { now: () => now }));
    const attempt = await loginAt(connector, { scopes: offline });
    expect(attempt.callback.searchParams.get('iss')).toBe(idp.issuer);
    const identity = await attempt.identity();
    expect(identity).toMatchObject({ userId: 'grace', username: 'Grace Hopper', email: 'grace@example.com', emailVerified: true, groups: ['navy', 'cobol'] });

    // oidc-provider grants offline_access only with prompt=consent, which a plain OAuth 2.0 client
    // does not send: there is no refresh token, so refresh lasts as long as the access token.
    idp.accounts.get('grace')!.groups = ['navy'];
    expect((await connector.refresh(offline, identity)).groups).toEqual(['navy']);
    now += 2 * 3600_000;
    const error = await refusal(connector.refresh(offline, identity));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/issued no refresh token/);
  });
});

describe('oauth connector: through the issuer', () => {
  let downstream: Downstream;
  beforeAll(async () => {
    downstream = await startDownstream(`
  - type: oauth
    id: generic
    name: Generic OAuth
    config:
      clientID: ${basic.clientID}
      clientSecret: "${basic.clientSecret}"
      authorizationURL: ${basic.origin}/oauth/authorize
      tokenURL: ${basic.origin}/oauth/token
      userInfoURL: ${basic.origin}/api/me
      scopes: [profile, email]
`);
    basic.oauth.redirectURIs.add(downstream.callback('generic'));
  });
  afterAll(async () => downstream?.close());

  it('signs a person in with the mapped userinfo, and refresh reads it again', async () => {
    const tokens = await downstream.login('generic');
    expect(tokens.claims()).toMatchObject({ sub: subjectOf('1815', 'generic'), name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.com', groups: ['admins', 'analysts'] });
    basic.users.get('ada')!.groups = ['readers'];
    expect((await client.refreshTokenGrant(downstream.rp, tokens.refresh_token!)).claims()?.groups).toEqual(['readers']);
  });
});
