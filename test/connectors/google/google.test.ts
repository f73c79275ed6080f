// The google connector against a Google stand-in (google-server.ts: Google's OpenID Connect
// endpoints and discovery, the service-account JWT bearer grant, and the Admin SDK Directory API's
// groups list, as Google documents them). Google cannot be reached from here; the idgate-only
// `issuer` and `directoryURL` keys point the connector at the stand-in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectorFactory } from '../../../src/connector.js';
import { subjectOf } from '../../../src/oidc/claims.js';
import { LoginPageError } from '../../helpers/http-login.js';
import { CALLBACK, loginAt, offline, openUpstream, withGroups } from '../callback-bed.js';
import { refusal, testContext } from '../context.js';
import { startDownstream, type Downstream } from '../downstream.js';
import { startGoogleServer, type GoogleServer } from './google-server.js';

let google: GoogleServer;
let dir: string;
let keyFile: string;
beforeAll(async () => {
  google = await startGoogleServer();
  google.oauth.redirectURIs.add(CALLBACK);
  dir = await mkdtemp(join(tmpdir(), 'idgate-google-'));
  keyFile = join(dir, 'service-account.json');
  await writeFile(keyFile, await google.serviceAccountKey());
});
afterAll(async () => {
  await google?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  google.accounts.set('liz', { sub: '110169484474386276334', email: 'liz@example.com', name: 'Liz Lemon', hd: 'example.com' });
  google.accounts.set('kenneth', { sub: '1099', email: 'kenneth@gmail.com', name: 'Kenneth' });
  google.accounts.set('pete', { sub: '2077', email: 'pete@other.example', name: 'Pete', hd: 'other.example' });
  google.memberships.clear();
  google.memberships.set('liz@example.com', ['writers@example.com', 'staff@example.com']);
  google.memberships.set('writers@example.com', ['creative@example.com']);
  google.memberships.set('creative@example.com', ['staff@example.com']);
  google.delegatedAdmins.clear();
  google.delegatedAdmins.add('admin@example.com');
  google.oauth.nextUser = 'liz';
  google.pageSize = 200;
});

const directoryConfig = () => ({ serviceAccountFilePath: keyFile, domainToAdminEmail: { 'example.com': 'admin@example.com' } });
const open = (config: Record<string, unknown>, context = testContext('upstream')) =>
  openUpstream('google', { clientID: google.clientID, clientSecret: google.clientSecret, issuer: google.issuer, directoryURL: google.issuer, ...config }, context);

describe('google connector: login', () => {
  it('sends PKCE, nonce and state, verifies the ID token and maps its claims', async () => {
    const identity = await (await loginAt(await open({}))).identity();
    const sent = google.oauth.authorizations.at(-1)!;
    expect(sent.get('scope')).toBe('openid profile email');
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('access_type')).toBeNull();
    expect(identity).toEqual({
      userId: '110169484474386276334', username: 'Liz Lemon', email: 'liz@example.com', emailVerified: true,
      // The ID token's claims, for claim expressions (docs/claims.md).
      claims: expect.objectContaining({ sub: '110169484474386276334', email: 'liz@example.com' }),
    });
  });

  it('asks for offline access with access_type=offline and promptType, and keeps the refresh token server-side', async () => {
    const identity = await (await loginAt(await open({ promptType: 'select_account consent' }), { scopes: offline })).identity();
    const sent = google.oauth.authorizations.at(-1)!;
    expect(sent.get('access_type')).toBe('offline');
    expect(sent.get('prompt')).toBe('select_account consent');
    expect(JSON.parse(new TextDecoder().decode(identity.connectorData))).toEqual({ refreshToken: expect.any(String), sub: '110169484474386276334', hd: 'example.com' });
  });

  it('sends hd and refuses an account of another hosted domain, or a personal one', async () => {
    const connector = await open({ hostedDomains: ['example.com'] });
    google.oauth.nextUser = 'pete';
    const other = await refusal((await loginAt(connector)).identity());
    expect(google.oauth.authorizations.at(-1)!.get('hd')).toBe('example.com');
    expect(other.code).toBe('account_not_allowed');
    expect(other.message).toBe('the Google account\'s hosted domain is "other.example", not one allowed here (example.com)');
    google.oauth.nextUser = 'kenneth';
    expect((await refusal((await loginAt(connector)).identity())).message).toMatch(/none \(a personal Google account\)/);
    google.oauth.nextUser = 'liz';
    expect((await (await loginAt(connector)).identity()).userId).toBe('110169484474386276334');
    await loginAt(await open({ hostedDomains: ['example.com', 'other.example'] }));
    expect(google.oauth.authorizations.at(-1)!.get('hd')).toBe('*');
  });

  it('refuses an ID token signed by a key Google does not publish', async () => {
    google.forgeIdTokens = true;
    try {
      const error = await refusal((await loginAt(await open({}))).identity());
      expect(error.code).toBe('invalid_response');
      expect(error.message).toMatch(/signature/i);
    } finally {
      google.forgeIdTokens = false;
    }
  });

  it('refuses a forged state and reports an upstream error answer', async () => {
    const connector = await open({});
    const attempt = await loginAt(connector);
    attempt.callback.searchParams.set('state', 'other');
    expect((await refusal(connector.handleCallback(withGroups, attempt.connectorData, { url: attempt.callback }))).code).toBe('invalid_response');
    google.oauth.nextError = { error: 'access_denied' };
    expect((await refusal((await loginAt(connector)).identity())).code).toBe('access_denied');
  });
});

describe('google connector: groups from the Admin SDK directory', () => {
  it('lists the direct groups with the service account acting as the domain admin', async () => {
    const identity = await (await loginAt(await open(directoryConfig()))).identity();
    expect(identity.groups).toEqual(['writers@example.com', 'staff@example.com']);
    const grant = google.server.requests.find((request) => request.path === '/token' && request.body.includes('jwt-bearer'));
    expect(grant).toBeDefined();
  });

  it('follows nested groups once each with fetchTransitiveGroupMembership, across pages', async () => {
    google.pageSize = 1;
    const identity = await (await loginAt(await open({ ...directoryConfig(), fetchTransitiveGroupMembership: true }))).identity();
    expect(identity.groups).toEqual(['writers@example.com', 'creative@example.com', 'staff@example.com']);
  });

  it('refuses a person in none of `groups` even without the groups scope, and narrows the groups', async () => {
    const noScope = { offlineAccess: false, groups: false };
    google.memberships.set('liz@example.com', ['staff@example.com']);
    const error = await refusal((await loginAt(await open({ ...directoryConfig(), groups: ['admins@example.com'] }), { scopes: noScope })).identity());
    expect(error.code).toBe('not_in_allowed_groups');
    const identity = await (await loginAt(await open({ ...directoryConfig(), groups: ['staff@example.com'] }), { scopes: noScope })).identity();
    expect(identity.groups).toEqual(['staff@example.com']);
  });

  it('says when the admin has not delegated the directory to the service account, or no admin covers the domain', async () => {
    google.delegatedAdmins.clear();
    const undelegated = await refusal((await loginAt(await open(directoryConfig()))).identity());
    expect(undelegated.code).toBe('upstream_error');
    expect(undelegated.message).toMatch(/unauthorized_client.*check domain-wide delegation for idgate-groups@/);
    google.delegatedAdmins.add('admin@example.com');
    const uncovered = await refusal((await loginAt(await open({ serviceAccountFilePath: keyFile, domainToAdminEmail: { 'corp.example': 'admin@corp.example' } }))).identity());
    expect(uncovered.code).toBe('misconfigured');
  });

  it('keeps the login\'s identity and hosted domain when a refresh answer has no ID token', async () => {
    const connector = await open({ ...directoryConfig(), hostedDomains: ['example.com'] });
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    google.idTokenOnRefresh = false;
    try {
      google.memberships.set('liz@example.com', ['staff@example.com']);
      expect(await connector.refresh(offline, identity)).toMatchObject({ userId: '110169484474386276334', username: 'Liz Lemon', email: 'liz@example.com', groups: ['staff@example.com'] });
    } finally {
      google.idTokenOnRefresh = true;
    }
  });

  it('reads the groups again on refresh', async () => {
    const connector = await open(directoryConfig());
    const identity = await (await loginAt(connector, { scopes: offline })).identity();
    google.memberships.set('liz@example.com', ['staff@example.com']);
    expect((await connector.refresh(offline, identity)).groups).toEqual(['staff@example.com']);
    google.oauth.revoke('liz');
    expect((await refusal(connector.refresh(offline, identity))).code).toBe('access_denied');
  });
});

describe('google connector: config', () => {
  const parse = (config: Record<string, unknown>) => connectorFactory('google')!.configSchema.safeParse({ clientID: 'a', clientSecret: 'b', ...config });
  const messages = (config: Record<string, unknown>) => parse(config).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('needs the directory for groups, an admin for the service account, and a key file for the admins', () => {
    expect(messages({ groups: ['a@example.com'] })).toEqual(['groups: needs serviceAccountFilePath and domainToAdminEmail: groups are read from the Admin SDK directory']);
    expect(messages({ serviceAccountFilePath: '/sa.json' })).toEqual(['domainToAdminEmail: is required with serviceAccountFilePath (the admin the service account acts as)']);
    expect(messages({ domainToAdminEmail: { '*': 'admin@example.com' } })).toEqual(['serviceAccountFilePath: is required with domainToAdminEmail (application default credentials are not supported)']);
    expect(parse({ serviceAccountFilePath: '/sa.json', adminEmail: 'admin@example.com' }).success).toBe(true);
  });

  it('refuses an unreadable key file when it opens, naming the option', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ client_email: 'x' }));
    const error = await open({ serviceAccountFilePath: bad, adminEmail: 'admin@example.com' }).then(() => undefined, (caught: unknown) => caught);
    expect((error as Error).message).toMatch(/^serviceAccountFilePath: .*bad\.json is not a service account key file: private_key/);
  });

  it('warns that a non-Google issuer is a test setting', async () => {
    const lines: string[] = [];
    await open({}, { ...testContext('upstream'), logger: pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }) });
    expect(lines.join('')).toMatch(/not talking to Google/);
  });
});

describe('google connector: through the issuer', () => {
  let downstream: Downstream;
  beforeAll(async () => {
    downstream = await startDownstream(`
  - type: google
    id: google
    name: Google
    config:
      clientID: ${google.clientID}
      clientSecret: ${google.clientSecret}
      hostedDomains: [example.com]
      serviceAccountFilePath: ${keyFile}
      domainToAdminEmail:
        "*": admin@example.com
      issuer: ${google.issuer}
      directoryURL: ${google.issuer}
`);
    google.oauth.redirectURIs.add(downstream.callback('google'));
  });
  afterAll(async () => downstream?.close());

  it('signs a Workspace person in with their directory groups, and refresh reads them again', async () => {
    const tokens = await downstream.login('google');
    expect(tokens.claims()).toMatchObject({ sub: subjectOf('110169484474386276334', 'google'), email: 'liz@example.com', name: 'Liz Lemon', groups: ['writers@example.com', 'staff@example.com'] });
    google.memberships.set('liz@example.com', ['staff@example.com']);
    expect((await client.refreshTokenGrant(downstream.rp, tokens.refresh_token!)).claims()?.groups).toEqual(['staff@example.com']);
  });

  it('shows an account of another hosted domain a readable refusal page', async () => {
    google.oauth.nextUser = 'pete';
    const error = await downstream.follow((await downstream.authorize('google')).url).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toMatch(/hosted domain is &quot;other.example&quot;|hosted domain is "other.example"/);
  });
});
