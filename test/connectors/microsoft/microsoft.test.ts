// The microsoft connector against a Microsoft identity platform + Graph stand-in (microsoft-server.ts:
// the v2.0 authorize and token endpoints of a tenant, Graph /v1.0/me, /me/getMemberGroups and
// /directoryObjects/getByIds with @odata.nextLink paging, as Microsoft documents them). The real
// Microsoft endpoints cannot be reached from here; Dex's apiURL and graphURL point the connector at
// the stand-in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectorFactory } from '../../../src/connector.js';
import { subjectOf } from '../../../src/oidc/claims.js';
import { LoginPageError } from '../../helpers/http-login.js';
import { CALLBACK, loginAt, offline, openUpstream, withGroups } from '../callback-bed.js';
import { refusal, testContext } from '../context.js';
import { startDownstream, type Downstream } from '../downstream.js';
import { startMicrosoftServer, type MicrosoftServer } from './microsoft-server.js';

const TENANT = 'contoso.onmicrosoft.com';
let microsoft: MicrosoftServer;
let dir: string;
beforeAll(async () => {
  microsoft = await startMicrosoftServer(TENANT);
  microsoft.oauth.redirectURIs.add(CALLBACK);
  dir = await mkdtemp(join(tmpdir(), 'idgate-microsoft-'));
});
afterAll(async () => {
  await microsoft?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  microsoft.accounts.set('adele', {
    id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', displayName: 'Adele Vance', userPrincipalName: 'AdeleV@Contoso.com',
    mailNickname: 'AdeleV', onPremisesSamAccountName: 'CONTOSO\\adelev',
    groups: [
      { id: 'g-eng', displayName: 'Engineering', securityEnabled: true },
      { id: 'g-all', displayName: 'All Company', securityEnabled: false },
      { id: 'g-ops', displayName: 'Ops', securityEnabled: true },
    ],
  });
  microsoft.accounts.set('guest', { id: 'guest-id', displayName: 'Guest', userPrincipalName: 'guest@fabrikam.com', mailNickname: 'guest', onPremisesSamAccountName: null, groups: [] });
  microsoft.oauth.nextUser = 'adele';
  microsoft.pageSize = 100;
});

const open = (config: Record<string, unknown>, context = testContext('upstream')) =>
  openUpstream('microsoft', { clientID: microsoft.clientID, clientSecret: microsoft.clientSecret, tenant: TENANT, apiURL: microsoft.url, graphURL: microsoft.url, ...config }, context);

describe('microsoft connector: login', () => {
  it('asks the tenant for user.read and directory.read.all with prompt and domain_hint, and maps Graph /me', async () => {
    const identity = await (await loginAt(await open({ promptType: 'select_account', domainHint: 'contoso.com', preferredUsernameField: 'mailNickname' }))).identity();
    const sent = microsoft.oauth.authorizations.at(-1)!;
    expect(sent.get('scope')).toBe('user.read directory.read.all');
    expect(sent.get('prompt')).toBe('select_account');
    expect(sent.get('domain_hint')).toBe('contoso.com');
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(identity).toMatchObject({
      userId: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', username: 'Adele Vance', email: 'AdeleV@Contoso.com', emailVerified: true,
      preferredUsername: 'AdeleV', groups: ['Engineering', 'All Company', 'Ops'],
    });
  });

  it('lowercases the email, gives group IDs, and only security groups, as configured', async () => {
    const identity = await (await loginAt(await open({ emailToLowercase: true, groupNameFormat: 'id', onlySecurityGroups: true }))).identity();
    expect(identity).toMatchObject({ email: 'adelev@contoso.com', groups: ['g-eng', 'g-ops'] });
  });

  it('follows @odata.nextLink through member groups and names, batching names 1000 a request', async () => {
    microsoft.accounts.get('adele')!.groups = Array.from({ length: 1203 }, (_, i) => ({ id: `g-${i}`, displayName: `Group ${i}`, securityEnabled: true }));
    microsoft.pageSize = 500;
    const unbatched = await refusal((await loginAt(await open({}))).identity());
    expect(unbatched.message).toMatch(/HTTP 400: Too many ids/);
    const identity = await (await loginAt(await open({ batchGroupLookups: true }))).identity();
    expect(identity.groups).toHaveLength(1203);
    expect(identity.groups!.at(-1)).toBe('Group 1202');
    // Two pages for the first 1000 IDs (the same body POSTed to the nextLink), one for the last 203.
    const nameRequests = microsoft.server.requests.filter((request) => request.path === '/v1.0/directoryObjects/getByIds').slice(-3);
    expect(nameRequests.map((request) => (JSON.parse(request.body) as { ids: string[] }).ids.length)).toEqual([1000, 1000, 203]);
  });

  it('refuses a person in none of `groups`; narrows to them with useGroupsAsWhitelist', async () => {
    microsoft.oauth.nextUser = 'guest';
    const error = await refusal((await loginAt(await open({ groups: ['Ops'] }))).identity());
    expect(error.code).toBe('not_in_allowed_groups');
    microsoft.oauth.nextUser = 'adele';
    expect((await (await loginAt(await open({ groups: ['Ops'] }))).identity()).groups).toEqual(['Engineering', 'All Company', 'Ops']);
    expect((await (await loginAt(await open({ groups: ['Ops'], useGroupsAsWhitelist: true }))).identity()).groups).toEqual(['Ops']);
  });

  it('authenticates with a client assertion file instead of a secret', async () => {
    const file = join(dir, 'assertion.jwt');
    await writeFile(file, `${microsoft.clientAssertion}\n`);
    const identity = await (await loginAt(await open({ clientSecret: undefined, clientAssertion: file }))).identity();
    expect(identity.userId).toBe('87d349ed-44d7-43e1-9a83-5f2406dee5bd');
    await writeFile(file, 'a-stale-assertion');
    const error = await refusal((await loginAt(await open({ clientSecret: undefined, clientAssertion: file }))).identity());
    expect(error.message).toMatch(/invalid_client/);
  });

  it('reports an upstream error answer and refuses a forged state', async () => {
    microsoft.oauth.nextError = { error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.' };
    const denied = await refusal((await loginAt(await open({}))).identity());
    expect(denied.code).toBe('access_denied');
    expect(denied.message).toMatch(/AADSTS65004/);
    const connector = await open({});
    const attempt = await loginAt(connector);
    attempt.callback.searchParams.set('state', 'someone-elses-request');
    expect((await refusal(connector.handleCallback(withGroups, attempt.connectorData, { url: attempt.callback }))).code).toBe('invalid_response');
  });
});

describe('microsoft connector: refresh', () => {
  it('asks for offline_access, renews the expired token and re-reads the groups', async () => {
    let now = Date.now();
    const connector = await open({}, testContext('upstream', { now: () => now }));
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    expect(microsoft.oauth.authorizations.at(-1)!.get('scope')).toBe('user.read directory.read.all offline_access');
    microsoft.accounts.get('adele')!.groups.pop();
    microsoft.oauth.expireAccessTokens();
    now += 3600_000;
    expect((await connector.refresh(offline, identity)).groups).toEqual(['Engineering', 'All Company']);
  });

  it('fails when the refresh token was revoked', async () => {
    let now = Date.now();
    const connector = await open({}, testContext('upstream', { now: () => now }));
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    microsoft.oauth.revoke('adele');
    now += 3600_000;
    expect((await refusal(connector.refresh(offline, identity))).code).toBe('access_denied');
  });
});

describe('microsoft connector: config', () => {
  const parse = (config: Record<string, unknown>) => connectorFactory('microsoft')!.configSchema.safeParse({ clientID: 'a', clientSecret: 'b', ...config });
  const messages = (config: Record<string, unknown>) => parse(config).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('refuses a group restriction that a multi-tenant endpoint cannot check (Dex lets everyone in)', () => {
    expect(messages({ groups: ['Ops'] })).toEqual(['groups: needs tenant set to the directory\'s ID or domain: groups cannot be read through the "common" tenant']);
    expect(parse({ groups: ['Ops'], tenant: TENANT }).success).toBe(true);
  });

  it('wants exactly one of clientSecret and clientAssertion, and a known groupNameFormat', () => {
    expect(messages({ clientAssertion: '/a.jwt' })).toEqual(['clientSecret: set exactly one of clientSecret or clientAssertion']);
    expect(messages({ groupNameFormat: 'mail' })).toEqual(['groupNameFormat: must be name or id']);
  });

  it('refuses a clientAssertion file it cannot read when it opens', async () => {
    const error = await openUpstream('microsoft', { clientID: 'a', clientAssertion: join(dir, 'missing.jwt') }).then(() => undefined, (caught: unknown) => caught);
    expect((error as Error).message).toMatch(/clientAssertion: cannot read .*missing\.jwt \(ENOENT\)/);
  });
});

describe('microsoft connector: through the issuer', () => {
  let downstream: Downstream;
  beforeAll(async () => {
    downstream = await startDownstream(`
  - type: microsoft
    id: microsoft
    name: Microsoft
    config:
      clientID: ${microsoft.clientID}
      clientSecret: ${microsoft.clientSecret}
      tenant: ${TENANT}
      apiURL: ${microsoft.url}
      graphURL: ${microsoft.url}
      groups: [Engineering, Ops]
      useGroupsAsWhitelist: true
`);
    microsoft.oauth.redirectURIs.add(downstream.callback('microsoft'));
  });
  afterAll(async () => downstream?.close());

  it('signs a person in with their directory groups, and refresh goes back to Graph', async () => {
    const tokens = await downstream.login('microsoft');
    expect(tokens.claims()).toMatchObject({ sub: subjectOf('87d349ed-44d7-43e1-9a83-5f2406dee5bd', 'microsoft'), email: 'AdeleV@Contoso.com', name: 'Adele Vance', groups: ['Engineering', 'Ops'] });
    microsoft.accounts.get('adele')!.groups = microsoft.accounts.get('adele')!.groups.filter((group) => group.id !== 'g-ops');
    expect((await client.refreshTokenGrant(downstream.rp, tokens.refresh_token!)).claims()?.groups).toEqual(['Engineering']);
  });

  it('shows a person outside `groups` a refusal page', async () => {
    microsoft.oauth.nextUser = 'guest';
    const error = await downstream.follow((await downstream.authorize('microsoft')).url).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toMatch(/not in a group allowed/);
  });
});
