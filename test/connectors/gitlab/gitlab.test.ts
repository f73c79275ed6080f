// The gitlab connector against a GitLab stand-in (gitlab-server.ts: /oauth/authorize, /oauth/token,
// /api/v4/user and /oauth/userinfo with its groups and role claims, as GitLab documents them, under a
// relative-URL prefix). gitlab.com cannot be reached from here; baseURL points the connector at the
// stand-in exactly as at a self-managed instance.
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectorFactory } from '../../../src/connector.js';
import { subjectOf } from '../../../src/oidc/claims.js';
import { LoginPageError } from '../../helpers/http-login.js';
import { CALLBACK, loginAt, offline, openUpstream, withGroups } from '../callback-bed.js';
import { refusal, testContext } from '../context.js';
import { startDownstream, type Downstream } from '../downstream.js';
import { startGitLabServer, type GitLabServer } from './gitlab-server.js';

let gitlab: GitLabServer;
beforeAll(async () => {
  gitlab = await startGitLabServer();
  gitlab.oauth.redirectURIs.add(CALLBACK);
});
afterAll(async () => gitlab?.close());
beforeEach(() => {
  gitlab.accounts.set('jane', {
    id: 1001, username: 'jane', name: 'Jane Doe', email: 'jane@example.com',
    groups: ['platform', 'platform/db', 'docs'], owner: ['platform'], developer: ['docs'],
  });
  gitlab.accounts.set('joe', { id: 1002, username: 'joe', name: 'Joe', email: 'joe@example.com', groups: ['marketing'] });
  gitlab.oauth.nextUser = 'jane';
});

const open = (config: Record<string, unknown>, context = testContext('upstream')) =>
  openUpstream('gitlab', { baseURL: gitlab.baseURL, clientID: gitlab.clientID, clientSecret: gitlab.clientSecret, ...config }, context);

describe('gitlab connector: login', () => {
  it('asks for read_user and openid, and maps /api/v4/user and the userinfo groups to the identity', async () => {
    const identity = await (await loginAt(await open({}))).identity();
    const sent = gitlab.oauth.authorizations.at(-1)!;
    expect(sent.get('scope')).toBe('read_user openid');
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(identity).toMatchObject({
      userId: '1001', username: 'Jane Doe', preferredUsername: 'jane', email: 'jane@example.com', emailVerified: true,
      groups: ['platform', 'platform/db', 'docs'],
    });
  });

  it('reads no groups (and asks only read_user) without the groups scope or a restriction', async () => {
    const identity = await (await loginAt(await open({}), { scopes: { offlineAccess: false, groups: false } })).identity();
    expect(gitlab.oauth.authorizations.at(-1)!.get('scope')).toBe('read_user');
    expect(identity.groups).toBeUndefined();
    expect(gitlab.server.requests.at(-1)!.path).toBe('/gitlab/api/v4/user');
  });

  it('adds group:role entries with getGroupsPermission, a parent group\'s role covering its subgroups', async () => {
    const identity = await (await loginAt(await open({ getGroupsPermission: true }))).identity();
    expect(identity.groups).toEqual(['platform', 'platform/db', 'docs', 'platform:owner', 'platform/db:owner', 'docs:developer']);
  });

  it('uses the username as the user ID with useLoginAsID', async () => {
    expect((await (await loginAt(await open({ useLoginAsID: true }))).identity()).userId).toBe('jane');
  });

  it('refuses a person in none of `groups`, and narrows the groups of one who is', async () => {
    gitlab.oauth.nextUser = 'joe';
    const error = await refusal((await loginAt(await open({ groups: ['platform', 'docs'] }))).identity());
    expect(error.code).toBe('not_in_allowed_groups');
    expect(error.message).toMatch(/"joe" is not a member of any group allowed to sign in here \(platform, docs\)/);
    gitlab.oauth.nextUser = 'jane';
    expect((await (await loginAt(await open({ groups: ['docs'] }))).identity()).groups).toEqual(['docs']);
  });

  it('reports an upstream error answer and refuses a forged state', async () => {
    gitlab.oauth.nextError = { error: 'invalid_scope', error_description: 'The requested scope is invalid' };
    const upstream = await refusal((await loginAt(await open({}))).identity());
    expect(upstream.code).toBe('upstream_error');
    expect(upstream.message).toMatch(/invalid_scope: The requested scope is invalid/);

    const connector = await open({});
    const attempt = await loginAt(connector);
    attempt.callback.searchParams.set('state', 'another-auth-request');
    const forged = await refusal(connector.handleCallback(withGroups, attempt.connectorData, { url: attempt.callback }));
    expect(forged.code).toBe('invalid_response');
  });
});

describe('gitlab connector: refresh', () => {
  it('renews the expired token with the refresh token and re-reads the groups', async () => {
    let now = Date.now();
    const connector = await open({}, testContext('upstream', { now: () => now }));
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    gitlab.accounts.get('jane')!.groups = ['docs'];
    gitlab.oauth.expireAccessTokens();
    now += 7200_000;
    const refreshed = await connector.refresh(offline, identity);
    expect(refreshed.groups).toEqual(['docs']);
    expect(gitlab.server.requests.filter((request) => request.path === '/gitlab/oauth/token' && request.body.includes('grant_type=refresh_token'))).toHaveLength(1);
  });

  it('fails with access_denied when GitLab refuses the refresh token', async () => {
    let now = Date.now();
    const connector = await open({}, testContext('upstream', { now: () => now }));
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    gitlab.oauth.revoke('jane');
    now += 7200_000;
    const error = await refusal(connector.refresh(offline, identity));
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/invalid_grant/);
  });
});

describe('gitlab connector: config', () => {
  const parse = (config: Record<string, unknown>) => connectorFactory('gitlab')!.configSchema.safeParse({ clientID: 'a', clientSecret: 'b', ...config });

  it('defaults baseURL to gitlab.com and refuses plain http elsewhere than this machine', () => {
    expect(parse({}).data).toMatchObject({ baseURL: 'https://gitlab.com' });
    expect(parse({ baseURL: 'http://gitlab.example.com' }).error?.issues[0]?.message).toMatch(/must be an https URL/);
  });

  it('refuses rootCAData without a certificate and the unreleased inheritedGroups, with reasons', () => {
    expect(parse({ rootCAData: 'bm90IGEgY2VydA==' }).error?.issues[0]?.message).toMatch(/holds no PEM certificate/);
    expect(parse({ inheritedGroups: true }).error?.issues[0]?.message).toMatch(/is not supported/);
  });
});

describe('gitlab connector: through the issuer', () => {
  let downstream: Downstream;
  beforeAll(async () => {
    downstream = await startDownstream(`
  - type: gitlab
    id: gitlab
    name: GitLab
    config:
      baseURL: ${gitlab.baseURL}
      clientID: ${gitlab.clientID}
      clientSecret: ${gitlab.clientSecret}
      groups: [platform, docs]
`);
    gitlab.oauth.redirectURIs.add(downstream.callback('gitlab'));
  });
  afterAll(async () => downstream?.close());

  it('signs a person in with their GitLab groups in idgate\'s tokens, and refresh re-reads them', async () => {
    const tokens = await downstream.login('gitlab');
    expect(tokens.claims()).toMatchObject({ sub: subjectOf('1001', 'gitlab'), email: 'jane@example.com', name: 'Jane Doe', preferred_username: 'jane', groups: ['platform', 'docs'] });
    expect(decodeJwt(tokens.access_token).groups).toEqual(['platform', 'docs']);
    gitlab.accounts.get('jane')!.groups = ['docs'];
    expect((await client.refreshTokenGrant(downstream.rp, tokens.refresh_token!)).claims()?.groups).toEqual(['docs']);
  });

  it('shows a person outside `groups` a refusal page', async () => {
    gitlab.oauth.nextUser = 'joe';
    const error = await downstream.follow((await downstream.authorize('gitlab')).url).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toMatch(/not in a group allowed/);
  });
});
