/**
 * A static client's claim rules: its `claims` in its ID and access tokens (each in the tokens it
 * names, from `user` and `scopes`), other clients' tokens untouched, and its userValidationRules
 * refusing: at /auth with access_denied to the client, at the token endpoint with invalid_grant, both
 * with the rule's message; a refused refresh leaves the refresh token as it was.
 */
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { followLogin } from '../helpers/http-login.js';
import { EXAMPLE_APP } from '../helpers/issuer.js';
import { bedConfig, DIRECTORY, person, startClaimsBed, type ClaimsBed } from './bed.js';

const CONNECTOR = `    claimMappings:
      extra:
        - key: tenant
          valueExpression: claims.tenant`;

const CLIENT = `    grantTypes: [authorization_code, refresh_token, password, urn:ietf:params:oauth:grant-type:token-exchange]
    trustedPeers: [other-app]
    claims:
      - key: roles
        valueExpression: user.groups.filter(g, g.startsWith("app-")).map(g, g.substring(4))
      - key: tenant_id
        valueExpression: 'has(user.extra.tenant) ? "t-" + user.extra.tenant : ""'
        tokens: [access_token]
      - key: groups
        valueExpression: '"groups" in scopes ? user.groups.filter(g, g.startsWith("app-")) : []'
        tokens: [id_token]
    userValidationRules:
      - expression: '"app-users" in user.groups'
        message: You need the app-users group to use Example App
  - id: other-app
    name: Other App
    secret: other-secret
    redirectURIs: [http://127.0.0.1:5555/other]`;

let bed: ClaimsBed;
beforeAll(async () => {
  bed = await startClaimsBed(bedConfig(CONNECTOR, CLIENT));
});
afterAll(() => bed?.close());
beforeEach(() => {
  DIRECTORY.clear();
  DIRECTORY.set('ann', person('ann', { tenant: 'acme' }, { groups: ['app-users', 'app-admins', 'staff'] }));
  DIRECTORY.set('pat', person('pat', { tenant: 'acme' }, { groups: ['staff'] }));
});

function tokenRequest(body: Record<string, string>): Promise<Response> {
  return fetch(`${bed.idgate.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${EXAMPLE_APP.id}:${EXAMPLE_APP.secret}`).toString('base64')}` },
    body: new URLSearchParams(body),
  });
}

describe('staticClients[].claims', () => {
  it('adds each claim to the tokens it names, from user and scopes', async () => {
    const tokens = await bed.login('ann');
    const idToken = tokens.claims()!;
    const accessToken = decodeJwt(tokens.access_token);
    expect(idToken).toMatchObject({ roles: ['users', 'admins'], groups: ['app-users', 'app-admins'], tenant: 'acme' });
    expect(idToken).not.toHaveProperty('tenant_id');
    expect(accessToken).toMatchObject({ roles: ['users', 'admins'], tenant_id: 't-acme', groups: ['app-users', 'app-admins', 'staff'] });
  });

  it('reads the granted scopes: without groups the client\'s groups claim is empty, so left out', async () => {
    const idToken = (await bed.login('ann', 'openid email')).claims()!;
    expect(idToken).toMatchObject({ roles: ['users', 'admins'] });
    expect(idToken).not.toHaveProperty('groups');
  });

  it('keeps the same claims through a refresh', async () => {
    const tokens = await bed.login('ann');
    const refreshed = await client.refreshTokenGrant(bed.rp, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ roles: ['users', 'admins'], tenant_id: 't-acme' });
  });
});

describe('staticClients[].userValidationRules', () => {
  it('refuses at /auth with access_denied to the client, the rule\'s message as error_description', async () => {
    const { url } = await bed.authorize();
    const callback = await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, username: 'pat', password: 'secret' });
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toBe('You need the app-users group to use Example App');
    expect(callback.searchParams.get('code')).toBeNull();
    expect(bed.idgate.audit.events.at(-1)).toMatchObject({ event: 'authorization_refused', reason: 'access_denied', clientId: EXAMPLE_APP.id });
  });

  it('refuses the token request with invalid_grant (password grant)', async () => {
    const response = await tokenRequest({ grant_type: 'password', username: 'pat', password: 'secret', scope: 'openid groups' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_grant', error_description: 'You need the app-users group to use Example App' });
  });

  it('refuses a refresh once the user no longer passes, without rotating the refresh token', async () => {
    const tokens = await bed.login('ann');
    DIRECTORY.set('ann', person('ann', { tenant: 'acme' }, { groups: ['staff'] }));
    const error = await client.refreshTokenGrant(bed.rp, tokens.refresh_token!).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ error: 'invalid_grant', error_description: 'You need the app-users group to use Example App' });
    DIRECTORY.set('ann', person('ann', { tenant: 'acme' }, { groups: ['app-users'] }));
    const again = await client.refreshTokenGrant(bed.rp, tokens.refresh_token!);
    expect(decodeJwt(again.access_token)).toMatchObject({ roles: ['users'] });
  });

  it('applies to a token exchange too: user is what the subject token carries (no extra claims)', async () => {
    const exchange = (subject: string) => tokenRequest({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    const own = await tokenRequest({ grant_type: 'password', username: 'ann', password: 'secret', scope: 'openid groups' });
    const exchanged = await exchange(((await own.json()) as { access_token: string }).access_token);
    expect(exchanged.status).toBe(200);
    const token = decodeJwt(((await exchanged.json()) as { access_token: string }).access_token);
    expect(token).toMatchObject({ roles: ['users', 'admins'] });
    expect(token).not.toHaveProperty('tenant_id');
    // Pat's token from another client, for this one (a trusted peer): the rule still refuses pat.
    const peer = await fetch(`${bed.idgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('other-app:other-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'pat', password: 'secret', scope: `openid groups audience:server:client_id:${EXAMPLE_APP.id}` }),
    });
    const refused = await exchange(((await peer.json()) as { access_token: string }).access_token);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_grant', error_description: 'You need the app-users group to use Example App' });
  });

  it('applies only to its own client', async () => {
    const response = await fetch(`${bed.idgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('other-app:other-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: 'pat', password: 'secret', scope: 'openid groups' }),
    });
    expect(response.status).toBe(200);
    const accessToken = decodeJwt(((await response.json()) as { access_token: string }).access_token);
    expect(accessToken).toMatchObject({ groups: ['staff'], tenant: 'acme' });
    expect(accessToken).not.toHaveProperty('roles');
  });
});
