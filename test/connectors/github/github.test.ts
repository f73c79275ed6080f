// The github connector against a GitHub Enterprise stand-in (github-server.ts: the OAuth web flow and
// REST API v3 endpoints /user, /user/emails, /user/orgs, /user/teams, /orgs/{org}/members/{user} as
// GitHub documents them, over TLS with a test CA). github.com cannot be reached from here; hostName +
// rootCA point the connector at the stand-in exactly as they would at a real GitHub Enterprise.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchTrusting, type UpstreamFetch } from '../../../connectors/oidc/tls-fetch.js';
import { subjectOf } from '../../../src/oidc/claims.js';
import { LoginPageError } from '../../helpers/http-login.js';
import { EXAMPLE_APP } from '../../helpers/issuer.js';
import { CALLBACK, loginAt, offline, openUpstream, withGroups, type UpstreamConnector } from '../callback-bed.js';
import { refusal, testContext } from '../context.js';
import { startDownstream, type Downstream } from '../downstream.js';
import { makeCertificates } from '../ldap/slapd.js';
import { startGitHubServer, type GitHubAccount, type GitHubServer } from './github-server.js';

let dir: string;
let caFile: string;
let browser: UpstreamFetch;
let github: GitHubServer;
let expiring: GitHubServer;

function octocat(): GitHubAccount {
  return {
    id: 583231, login: 'octocat', name: 'The Octocat', email: null,
    emails: [
      { email: 'octocat@users.noreply.example', primary: false, verified: true, visibility: null },
      { email: 'octocat@example.com', primary: true, verified: true, visibility: 'private' },
      { email: 'cat@corp.example.com', primary: false, verified: true, visibility: null },
    ],
    orgs: ['acme', 'widgets'],
    teams: [
      { org: 'acme', name: 'Platform Team', slug: 'platform-team' },
      { org: 'acme', name: 'Docs', slug: 'docs' },
      { org: 'widgets', name: 'Ops', slug: 'ops' },
    ],
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idgate-github-'));
  const files = await makeCertificates(dir);
  caFile = files.ca;
  browser = fetchTrusting([await readFile(files.ca, 'utf8')]);
  const tls = { key: await readFile(files.key, 'utf8'), cert: await readFile(files.cert, 'utf8') };
  github = await startGitHubServer({ tls });
  expiring = await startGitHubServer({ tls, expiringTokens: true });
  for (const server of [github, expiring]) server.oauth.redirectURIs.add(CALLBACK);
});
afterAll(async () => {
  await Promise.all([github?.close(), expiring?.close()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const server of [github, expiring]) {
    server.accounts.set('octocat', octocat());
    server.accounts.set('hubot', { id: 2, login: 'hubot', name: null, email: 'hubot@example.com', emails: [], orgs: ['elsewhere'], teams: [] });
    server.oauth.nextUser = 'octocat';
    server.pageSize = 100;
  }
});

const open = (config: Record<string, unknown>, server = github) =>
  openUpstream('github', { clientID: server.clientID, clientSecret: server.clientSecret, hostName: server.hostName, rootCA: caFile, ...config });
const login = (connector: UpstreamConnector, options: Parameters<typeof loginAt>[1] = {}) => loginAt(connector, { browser, ...options });

describe('github connector: login', () => {
  it('sends PKCE, state and the scopes it needs, and maps /user to the identity', async () => {
    const connector = await open({ orgs: [{ name: 'acme' }] });
    const identity = await (await login(connector)).identity();
    const sent = github.oauth.authorizations.at(-1)!;
    expect(sent.get('scope')).toBe('user:email read:org');
    expect(sent.get('state')).toBe('auth-request-1');
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('redirect_uri')).toBe(CALLBACK);
    expect(identity).toMatchObject({
      userId: '583231', username: 'The Octocat', preferredUsername: 'octocat', email: 'octocat@example.com', emailVerified: true,
      groups: ['acme:Platform Team', 'acme:Docs'],
    });
    expect(identity.connectorData).toBeUndefined();
  });

  it('asks only for user:email when neither orgs nor the groups scope need groups', async () => {
    const identity = await (await login(await open({}), { scopes: { offlineAccess: false, groups: false } })).identity();
    expect(github.oauth.authorizations.at(-1)!.get('scope')).toBe('user:email');
    expect(identity.groups).toBeUndefined();
  });

  it('uses the login as the user ID with useLoginAsID, and the login as the name when GitHub has none', async () => {
    github.oauth.nextUser = 'hubot';
    const identity = await (await login(await open({ useLoginAsID: true }))).identity();
    expect(identity).toMatchObject({ userId: 'hubot', username: 'hubot', email: 'hubot@example.com', groups: [] });
  });

  it('names teams by slug or by both with teamNameField', async () => {
    const slug = await (await login(await open({ orgs: [{ name: 'acme' }], teamNameField: 'slug' }))).identity();
    expect(slug.groups).toEqual(['acme:platform-team', 'acme:docs']);
    const both = await (await login(await open({ orgs: [{ name: 'acme', teams: ['docs'] }], teamNameField: 'both' }))).identity();
    expect(both.groups).toEqual(['acme:docs']);
  });

  it('loads every org and team with loadAllGroups (groups scope), following Link pages', async () => {
    github.pageSize = 1;
    const identity = await (await login(await open({ loadAllGroups: true }))).identity();
    expect(identity.groups).toEqual(['acme', 'acme:Platform Team', 'acme:Docs', 'widgets', 'widgets:Ops']);
    const teamPages = github.server.requests.filter((request) => request.path === '/api/v3/user/teams');
    expect(teamPages.map((request) => request.query.get('page'))).toEqual(expect.arrayContaining([null, '2', '3']));
  });

  it('picks a verified address in preferredEmailDomain (a glob), else the primary', async () => {
    const preferred = await (await login(await open({ preferredEmailDomain: '*.example.com' }))).identity();
    expect(preferred.email).toBe('cat@corp.example.com');
    const fallback = await (await login(await open({ preferredEmailDomain: 'nowhere.example' }))).identity();
    expect(fallback.email).toBe('octocat@example.com');
  });

  it('refuses a person without a primary email address', async () => {
    github.accounts.get('octocat')!.emails = [{ email: 'x@example.org', primary: false, verified: true, visibility: null }];
    const error = await refusal((await login(await open({}))).identity());
    expect(error.code).toBe('account_not_allowed');
    expect(error.message).toMatch(/"octocat" has no verified primary email/);
  });
});

describe('github connector: who may sign in', () => {
  it('refuses a person outside every configured org', async () => {
    github.oauth.nextUser = 'hubot';
    const error = await refusal((await login(await open({ orgs: [{ name: 'acme' }, { name: 'widgets', teams: ['Ops'] }] }))).identity());
    expect(error.code).toBe('not_in_allowed_groups');
    expect(error.message).toBe('GitHub user "hubot" is not in the required orgs or teams: acme; widgets (teams Ops)');
  });

  it('refuses an org member who is in none of the listed teams, and lets in one who is', async () => {
    const refused = await refusal((await login(await open({ orgs: [{ name: 'acme', teams: ['Security'] }] }))).identity());
    expect(refused.code).toBe('not_in_allowed_groups');
    const identity = await (await login(await open({ orgs: [{ name: 'acme', teams: ['Security'] }, { name: 'widgets', teams: ['Ops'] }] }))).identity();
    expect(identity.groups).toEqual(['widgets:Ops']);
  });

  it('legacy org: members only, with the org\'s team names as groups', async () => {
    const identity = await (await login(await open({ org: 'acme' }))).identity();
    expect(identity.groups).toEqual(['Platform Team', 'Docs']);
    github.oauth.nextUser = 'hubot';
    const error = await refusal((await login(await open({ org: 'acme' }))).identity());
    expect(error.code).toBe('not_in_allowed_groups');
    expect(error.message).toMatch(/"hubot" is not a member of the org "acme"/);
  });
});

describe('github connector: upstream answers it refuses', () => {
  it('reports error=access_denied from the authorization endpoint', async () => {
    github.oauth.nextError = { error: 'access_denied', error_description: 'The user has denied your application access.' };
    const error = await refusal((await login(await open({}))).identity());
    expect(error.code).toBe('access_denied');
    expect(error.message).toMatch(/denied your application access/);
  });

  it('reports a refused code (GitHub answers 200 with bad_verification_code)', async () => {
    const connector = await open({});
    const attempt = await login(connector);
    await attempt.identity();
    const error = await refusal(attempt.identity());
    expect(error.message).toMatch(/bad_verification_code/);
  });

  it('refuses a callback whose state is not the one sent', async () => {
    const connector = await open({});
    const attempt = await login(connector);
    attempt.callback.searchParams.set('state', 'auth-request-2');
    const error = await refusal(connector.handleCallback(withGroups, attempt.connectorData, { url: attempt.callback }));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/"state"/);
  });

  it('refuses a code redeemed with the PKCE verifier of another login', async () => {
    const connector = await open({});
    const first = await login(connector);
    const second = await login(connector);
    const error = await refusal(connector.handleCallback(withGroups, second.connectorData, { url: first.callback }));
    expect(error.message).toMatch(/PKCE/);
  });

  it('says so when GitHub refuses idgate\'s client secret', async () => {
    const error = await refusal((await login(await open({ clientSecret: 'not-the-secret' }))).identity());
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/refused idgate's client credentials.*check clientID and clientSecret/);
  });

  it('does not trust GitHub Enterprise\'s certificate without rootCA', async () => {
    const connector = await openUpstream('github', { clientID: github.clientID, clientSecret: github.clientSecret, hostName: github.hostName });
    const attempt = await login(connector);
    const error = await refusal(attempt.identity());
    expect(error.code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/TLS certificate is not trusted/);
  });

  it('takes Dex\'s shared <issuer>/callback as redirectURI, and refuses any other when it opens', async () => {
    const { url } = await (await open({ redirectURI: 'http://127.0.0.1:5556/dex/callback' })).loginURL(withGroups, CALLBACK, 's');
    expect(new URL(url).searchParams.get('redirect_uri')).toBe('http://127.0.0.1:5556/dex/callback');
    const error = await refusal(open({ redirectURI: 'https://elsewhere.example/callback' }));
    expect(error.code).toBe('misconfigured');
    expect(error.message).toMatch(/redirectURI must be http:\/\/127.0.0.1:5556\/dex\/callback\/upstream or http:\/\/127.0.0.1:5556\/dex\/callback/);
  });
});

describe('github connector: refresh', () => {
  it('re-reads the person and their teams with the stored token', async () => {
    const connector = await open({ orgs: [{ name: 'acme' }] });
    const identity = await (await login(connector, { scopes: offline })).identity();
    expect(identity.connectorData).toBeDefined();
    github.accounts.get('octocat')!.teams.push({ org: 'acme', name: 'Security', slug: 'security' });
    const refreshed = await connector.refresh(offline, identity);
    expect(refreshed.groups).toEqual(['acme:Platform Team', 'acme:Docs', 'acme:Security']);
  });

  it('refuses when the person left the org since', async () => {
    const connector = await open({ orgs: [{ name: 'acme' }] });
    const identity = await (await login(connector, { scopes: offline })).identity();
    github.accounts.get('octocat')!.orgs = ['widgets'];
    expect((await refusal(connector.refresh(offline, identity))).code).toBe('not_in_allowed_groups');
  });

  it('fails when the token was revoked at GitHub', async () => {
    const connector = await open({});
    const identity = await (await login(connector, { scopes: offline })).identity();
    github.oauth.revoke('octocat');
    const error = await refusal(connector.refresh(offline, identity));
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/HTTP 401: Bad credentials/);
  });

  it('renews an expired GitHub App token with its refresh token first', async () => {
    let now = Date.now();
    const connector = await openUpstream(
      'github',
      { clientID: expiring.clientID, clientSecret: expiring.clientSecret, hostName: expiring.hostName, rootCA: caFile },
      testContext('upstream', { now: () => now }),
    );
    const identity = await (await login(connector, { scopes: offline })).identity();
    expiring.oauth.expireAccessTokens();
    now += 8 * 3600_000 + 1;
    const before = expiring.server.requests.filter((request) => request.path === '/login/oauth/access_token').length;
    const refreshed = await connector.refresh(offline, identity);
    expect(expiring.server.requests.filter((request) => request.path === '/login/oauth/access_token').length).toBe(before + 1);
    expect(refreshed.userId).toBe('583231');
    expect(refreshed.connectorData).not.toEqual(identity.connectorData);
  });
});

describe('github connector: config', () => {
  const base = { clientID: 'id', clientSecret: 'secret' };
  const problems = async (config: Record<string, unknown>) => {
    const { connectorFactory } = await import('../../../src/connector.js');
    const result = connectorFactory('github')!.configSchema.safeParse({ ...base, ...config });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('refuses what Dex refuses, naming the option', async () => {
    expect(await problems({ org: 'a', orgs: [{ name: 'b' }] })).toEqual(['org: cannot be used together with orgs (move it into orgs: [{name: ...}])']);
    expect(await problems({ rootCA: '/ca.pem' })).toEqual(['rootCA: needs hostName (a root CA is for GitHub Enterprise)']);
    expect(await problems({ hostName: 'https://github.example.com' })).toEqual(['hostName: must be a host name (with an optional port), not a URL or a path']);
    expect(await problems({ teamNameField: 'id' })).toEqual(['teamNameField: must be name, slug or both']);
    expect(await problems({ preferredEmailDomain: 'example.*' })).toEqual(['preferredEmailDomain: a glob pattern cannot end with "*"']);
    expect((await problems({ orgs: [{ name: 'a', team: ['x'] }] }))[0]).toMatch(/^orgs\.0: Unrecognized key/);
  });
});

describe('github connector: through the issuer', () => {
  let downstream: Downstream;
  beforeAll(async () => {
    downstream = await startDownstream(`
  - type: github
    id: github
    name: GitHub
    config:
      clientID: ${github.clientID}
      clientSecret: $GITHUB_CLIENT_SECRET
      hostName: ${github.hostName}
      rootCA: ${caFile}
      orgs:
        - name: acme
          teams: [Platform Team]
        - name: widgets
`, { env: { GITHUB_CLIENT_SECRET: github.clientSecret }, browser });
    github.oauth.redirectURIs.add(downstream.callback('github'));
  });
  afterAll(async () => downstream?.close());

  it('signs a person in: idgate\'s tokens carry the GitHub identity and org:team groups; refresh re-reads them', async () => {
    const tokens = await downstream.login('github');
    const expected = { email: 'octocat@example.com', email_verified: true, name: 'The Octocat', preferred_username: 'octocat', groups: ['acme:Platform Team', 'widgets:Ops'] };
    expect(tokens.claims()).toMatchObject({ iss: downstream.idgate.url, aud: EXAMPLE_APP.id, sub: subjectOf('583231', 'github'), ...expected });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: subjectOf('583231', 'github'), groups: expected.groups });
    // The GitHub token idgate used stays server-side: not in idgate's tokens, not in the audit stream.
    const upstreamToken = github.server.requests.filter((request) => request.path === '/api/v3/user').at(-1)!.headers.authorization!.slice('Bearer '.length);
    const issued = [tokens.id_token!, tokens.access_token, JSON.stringify(decodeJwt(tokens.id_token!)), JSON.stringify(decodeJwt(tokens.access_token))];
    for (const text of [...issued, JSON.stringify(downstream.idgate.audit.events)]) expect(text).not.toContain(upstreamToken);

    github.accounts.get('octocat')!.teams = [{ org: 'widgets', name: 'Ops', slug: 'ops' }, { org: 'widgets', name: 'SRE', slug: 'sre' }];
    const refreshed = await client.refreshTokenGrant(downstream.rp, tokens.refresh_token!);
    expect(refreshed.claims()?.groups).toEqual(['widgets:Ops', 'widgets:SRE']);

    github.oauth.revoke('octocat');
    const error = await client.refreshTokenGrant(downstream.rp, refreshed.refresh_token!).then(() => undefined, (caught: unknown) => caught);
    expect((error as client.ResponseBodyError).error).toBe('invalid_grant');
  });

  it('shows a person outside the orgs a readable refusal page, and audits it', async () => {
    github.oauth.nextUser = 'hubot';
    const { url } = await downstream.authorize('github');
    const error = await downstream.follow(url).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toMatch(/not in a group allowed/);
    expect(downstream.idgate.audit.events).toContainEqual(expect.objectContaining({ connectorId: 'github', outcome: 'refused', reason: 'not_in_allowed_groups' }));
  });

  it('sends an upstream access_denied back to the client, and shows other upstream errors as a page', async () => {
    github.oauth.nextError = { error: 'access_denied' };
    const denied = await downstream.follow((await downstream.authorize('github')).url);
    expect(denied.searchParams.get('error')).toBe('access_denied');

    github.oauth.nextError = { error: 'server_error', error_description: 'GitHub is down for maintenance' };
    const error = await downstream.follow((await downstream.authorize('github')).url).then(() => undefined, (caught: unknown) => caught);
    expect((error as LoginPageError).status).toBe(502);
    expect((error as LoginPageError).html).toMatch(/GitHub is down for maintenance/);
  });

  it('answers a callback with a forged state with a readable page, not a 500', async () => {
    const response = await fetch(`${downstream.callback('github')}?code=x&state=not-an-auth-request`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/expired/);
  });
});
