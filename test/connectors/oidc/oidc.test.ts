// The oidc connector against a real upstream (oidc-provider on 127.0.0.1): login, PKCE/state/nonce,
// claim mapping, groups via userinfo, allowedGroups, the request options, upstream refresh, config.
import { connectorFactory, type Identity } from '../../../src/connector.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '../context.js';
import { CALLBACK, scopes, startOIDCBed, type OIDCBed } from './harness.js';
import type { UpstreamIdP } from './upstream-idp.js';

let bed: OIDCBed;
let idp: UpstreamIdP;
let conforming: UpstreamIdP;
beforeAll(async () => {
  bed = await startOIDCBed();
  ({ idp, conforming } = bed);
});
afterAll(async () => bed?.close());
const open: OIDCBed['open'] = (config, upstream) => bed.open(config, upstream);
const login: OIDCBed['login'] = (connector, options) => bed.login(connector, options);
const tamperingTokenEndpoint: OIDCBed['tamperingTokenEndpoint'] = (change, seen) => bed.tamperingTokenEndpoint(change, seen);

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
  it('refuses to open with a redirectURI that is neither its callback nor the shared /callback', async () => {
    const error = await refusal(open({ redirectURI: 'http://127.0.0.1:5556/dex/callback/other' }));
    expect(error.code).toBe('misconfigured');
    expect(error.message).toBe('redirectURI must be http://127.0.0.1:5556/dex/callback/corp or http://127.0.0.1:5556/dex/callback '
      + "(idgate's callbacks), not http://127.0.0.1:5556/dex/callback/other");
  });
  it("sends Dex's shared <issuer>/callback upstream when that is the redirectURI", async () => {
    const connector = await open({ redirectURI: 'http://127.0.0.1:5556/dex/callback' });
    const { url } = await connector.loginURL(scopes, CALLBACK, 's');
    expect(new URL(url).searchParams.get('redirect_uri')).toBe('http://127.0.0.1:5556/dex/callback');
  });
});
