/**
 * Dex's client RPCs against a whole issuer: a client created through the API logs in (openid-client),
 * follows its redirect-URI update, and once deleted is refused at /auth and /token. Secrets are
 * generated as Dex does, stored hashed and never answered again; config-file clients are read-only;
 * Dex's already_exists / not_found flags; Dex fields idgate lacks are refused by name.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { verifySecret } from '../../../src/storage/secrets.js';
import { ADMIN, EXAMPLE_APP, PUBLIC_APP } from '../../helpers/issuer.js';
import { failure, logIn, relyingParty, useApiIssuer } from './harness.js';

const suite = useApiIssuer();

interface ClientAnswer {
  id: string;
  secret: string;
  redirect_uris: string[];
  trusted_peers: string[];
  public: boolean;
  name: string;
  logo_url: string;
  allowed_connectors: string[];
}

const REDIRECT = 'http://127.0.0.1:5555/runtime/callback';
const MOVED = 'http://127.0.0.1:5555/moved/callback';

/** POST /token with a refresh token and Basic client authentication: the status and the OAuth error. */
async function refreshAnswer(clientId: string, secret: string, refreshToken: string): Promise<{ status: number; error?: string; refresh_token?: string }> {
  const response = await fetch(`${suite.server.idp.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const body = (await response.json()) as { error?: string; refresh_token?: string };
  return { status: response.status, ...(body.error ? { error: body.error } : { refresh_token: body.refresh_token! }) };
}

async function authorizeStatus(clientId: string, redirectURI: string): Promise<number> {
  const url = new URL(`${suite.server.idp.url}/auth`);
  url.search = new URLSearchParams({ client_id: clientId, redirect_uri: redirectURI, response_type: 'code', scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
  return (await fetch(url, { redirect: 'manual' })).status;
}

describe('CreateClient, GetClient, ListClients', () => {
  it('generates an ID and a secret as Dex does, answers the secret once and stores only its hash', async () => {
    const created = await suite.server.admin.call<{ already_exists: boolean; client: ClientAnswer }>('CreateClient', { client: { redirect_uris: [REDIRECT], name: 'Generated' } });
    expect(created.already_exists).toBe(false);
    expect(created.client.id).toMatch(/^[a-z2-7]{26}$/);
    expect(created.client.secret).toMatch(/^[a-z2-7]{52}$/);
    const stored = await suite.server.idp.storage.clients.get(created.client.id);
    expect(JSON.stringify(stored)).not.toContain(created.client.secret);
    expect(verifySecret(created.client.secret, stored!.secretHash!)).toBe(true);

    const got = await suite.server.admin.call<{ client: ClientAnswer }>('GetClient', { id: created.client.id });
    expect(got.client).toEqual({ ...created.client, secret: '' });
    const listed = await suite.server.admin.call<{ clients: Array<Record<string, unknown>> }>('ListClients');
    expect(listed.clients.map((c) => c.id)).toEqual(expect.arrayContaining([EXAMPLE_APP.id, PUBLIC_APP.id, created.client.id]));
    expect(JSON.stringify(listed)).not.toContain(created.client.secret);
    expect(suite.server.auditLines().filter((line) => line.type === 'client_created').at(-1)).toMatchObject({
      outcome: 'succeeded', clientId: created.client.id, origin: 'admin-api', actor: suite.certs.clientSubject,
    });
    expect(suite.server.auditLines().map((line) => JSON.stringify(line)).join('\n')).not.toContain(created.client.secret);
  });

  it('answers GetClient for a config-file client without its secret, and NOT_FOUND for an unknown one', async () => {
    const got = await suite.server.admin.call<{ client: ClientAnswer }>('GetClient', { id: EXAMPLE_APP.id });
    expect(got.client).toMatchObject({ id: EXAMPLE_APP.id, secret: '', redirect_uris: [EXAMPLE_APP.redirectURI], name: 'Example App' });
    const missing = await failure(suite.server.admin.call('GetClient', { id: 'nobody' }));
    expect(missing.code).toBe(status.NOT_FOUND);
  });

  it('answers already_exists for a taken ID and leaves the first client as it was', async () => {
    await suite.server.admin.call('CreateClient', { client: { id: 'twice', secret: 'first-secret', redirect_uris: [REDIRECT] } });
    const again = await suite.server.admin.call<{ already_exists: boolean; client: unknown }>('CreateClient', { client: { id: 'twice', secret: 'second-secret', redirect_uris: [MOVED] } });
    expect(again).toEqual({ already_exists: true, client: null });
    const stored = await suite.server.idp.storage.clients.get('twice');
    expect(stored?.redirectURIs).toEqual([REDIRECT]);
    expect(verifySecret('first-secret', stored!.secretHash!)).toBe(true);
    expect(suite.server.auditLines().filter((line) => line.type === 'client_created' && line.clientId === 'twice').map((line) => [line.outcome, line.reason])).toEqual([
      ['succeeded', undefined], ['refused', 'already_exists'],
    ]);
  });

  it('creates a public client without a secret and refuses a public client with one', async () => {
    const created = await suite.server.admin.call<{ client: ClientAnswer }>('CreateClient', { client: { id: 'spa', public: true, redirect_uris: [REDIRECT] } });
    expect(created.client).toMatchObject({ id: 'spa', public: true, secret: '' });
    expect((await suite.server.idp.storage.clients.get('spa'))?.secretHash).toBeNull();
    const refused = await failure(suite.server.admin.call('CreateClient', { client: { id: 'spa2', public: true, secret: 'x' } }));
    expect(refused).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'client.secret: a public client must not have a secret' });
  });

  it('refuses a redirect URI that is not absolute, naming the field', async () => {
    const refused = await failure(suite.server.admin.call('CreateClient', { client: { id: 'bad', redirect_uris: [REDIRECT, '/relative'] } }));
    expect(refused).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'client.redirect_uris[1]: not an absolute URL' });
    expect(await suite.server.idp.storage.clients.get('bad')).toBeUndefined();
  });

  it('refuses the Dex fields idgate does not implement rather than dropping them', async () => {
    for (const [field, value] of [['sso_shared_with', ['other']], ['backchannel_logout_uri', 'https://rp.example.com/bcl'], ['post_logout_redirect_uris', ['https://rp.example.com/']], ['refresh_token_lifetime', 'session']] as const) {
      const refused = await failure(suite.server.admin.call('CreateClient', { client: { id: 'unsupported', [field]: value } }));
      expect(refused.code, field).toBe(status.INVALID_ARGUMENT);
      expect(refused.details).toMatch(new RegExp(`^${field}: `));
    }
    await suite.server.admin.call('CreateClient', { client: { id: 'standalone', refresh_token_lifetime: 'standalone' } });
    expect(await suite.server.idp.storage.clients.get('standalone')).toBeDefined();
  });
});

describe('a client created through the API, in real flows', () => {
  let id: string;
  let secret: string;
  let refreshToken: string;

  it('logs a person in with the secret CreateClient answered', async () => {
    const created = await suite.server.admin.call<{ client: ClientAnswer }>('CreateClient', { client: { id: 'runtime-app', redirect_uris: [REDIRECT], name: 'Runtime App' } });
    ({ id, secret } = created.client);
    const tokens = await logIn(await relyingParty(suite.server.idp.url, id, secret), { redirectURI: REDIRECT, username: ADMIN.email, password: ADMIN.password });
    expect(tokens.claims()).toMatchObject({ iss: suite.server.idp.url, aud: id, email: ADMIN.email });
    refreshToken = tokens.refresh_token!;
    expect(refreshToken).toBeDefined();
    expect(await refreshAnswer(id, 'wrong-secret', refreshToken)).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('follows UpdateClient: the new redirect URI works, the old one is refused', async () => {
    expect(await suite.server.admin.call('UpdateClient', { id, redirect_uris: [MOVED], name: 'Moved App' })).toEqual({ not_found: false });
    expect(await authorizeStatus(id, REDIRECT)).toBe(400);
    const tokens = await logIn(await relyingParty(suite.server.idp.url, id, secret), { redirectURI: MOVED, username: ADMIN.email, password: ADMIN.password });
    expect(tokens.claims()!.aud).toBe(id);
    const got = await suite.server.admin.call<{ client: ClientAnswer }>('GetClient', { id });
    expect(got.client).toMatchObject({ redirect_uris: [MOVED], name: 'Moved App', secret: '' });
    expect(suite.server.auditLines().filter((line) => line.type === 'client_updated').at(-1)).toMatchObject({ outcome: 'succeeded', clientId: id, changed: ['redirectURIs', 'name'] });
  });

  it('once deleted, is refused at /token (its refresh token) and at /auth; deleting again answers not_found', async () => {
    const before = await refreshAnswer(id, secret, refreshToken);
    expect(before).toMatchObject({ status: 200, refresh_token: expect.any(String) });
    expect(await suite.server.admin.call('DeleteClient', { id })).toEqual({ not_found: false });
    expect(await refreshAnswer(id, secret, before.refresh_token!)).toEqual({ status: 401, error: 'invalid_client' });
    expect(await authorizeStatus(id, MOVED)).toBe(400);
    expect(await suite.server.admin.call('DeleteClient', { id })).toEqual({ not_found: true });
    expect(await suite.server.admin.call('UpdateClient', { id, name: 'ghost' })).toEqual({ not_found: true });
  });
});

describe('config-file clients', () => {
  it('are read-only: UpdateClient, DeleteClient and CreateClient with their ID fail with FAILED_PRECONDITION', async () => {
    for (const attempt of [
      suite.server.admin.call('UpdateClient', { id: EXAMPLE_APP.id, redirect_uris: ['https://evil.example.com/cb'] }),
      suite.server.admin.call('DeleteClient', { id: EXAMPLE_APP.id }),
      suite.server.admin.call('CreateClient', { client: { id: EXAMPLE_APP.id, secret: 'mine', redirect_uris: ['https://evil.example.com/cb'] } }),
    ]) {
      const refused = await failure(attempt);
      expect(refused.code).toBe(status.FAILED_PRECONDITION);
      expect(refused.details).toContain('comes from the config file');
    }
    expect((await suite.server.idp.storage.clients.get(EXAMPLE_APP.id))?.redirectURIs).toEqual([EXAMPLE_APP.redirectURI]);
    expect(suite.server.auditLines().filter((line) => line.clientId === EXAMPLE_APP.id && String(line.type).startsWith('client_')).map((line) => [line.type, line.reason])).toEqual([
      ['client_updated', 'read_only'], ['client_deleted', 'read_only'], ['client_created', 'read_only'],
    ]);
  });
});
