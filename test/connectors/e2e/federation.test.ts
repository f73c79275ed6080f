// Federated logins through the whole idgate issuer, end to end over HTTP: a downstream openid-client
// RP signs in through an upstream OIDC IdP (oidc-provider), a SAML IdP and an LDAP directory (slapd),
// and gets ID and access tokens with the mapped username, email and groups; upstream refresh; a
// person outside allowedGroups gets a readable refusal page; audit lines name connector and reason.
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginPageError, followLogin } from '../../helpers/http-login.js';
import { EXAMPLE_APP } from '../../helpers/issuer.js';
import { LDAP_ONLY_APP, startFederation, type Federation } from './fixture.js';

let bed: Federation;
beforeAll(async () => {
  bed = await startFederation();
});
afterAll(async () => bed?.close());

async function federatedLogin(connector: string, credentials: { username?: string; password?: string } = {}) {
  const { url, redeem } = await bed.authorize(connector);
  return redeem(await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, ...credentials }));
}

describe('federated login through idgate', () => {
  it('OIDC upstream: the RP gets ID and access tokens with the mapped identity, and refresh goes upstream', async () => {
    bed.upstream.nextAccount = 'alice';
    const tokens = await federatedLogin('corp');
    const expected = { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', preferred_username: 'alice', groups: ['corp:admins', 'corp:devs'] };
    expect(tokens.claims()).toMatchObject({ iss: bed.idgate.url, aud: EXAMPLE_APP.id, ...expected });
    expect(decodeJwt(tokens.access_token)).toMatchObject(expected);
    expect(bed.idgate.audit.events).toContainEqual(expect.objectContaining({ event: 'login', connectorId: 'corp', outcome: 'succeeded', user: 'alice@example.com' }));

    bed.upstream.accounts.get('alice')!.groups = ['admins', 'devs', 'ops'];
    const refreshed = await client.refreshTokenGrant(bed.rp, tokens.refresh_token!);
    expect(refreshed.claims()?.groups).toEqual(['corp:admins', 'corp:devs', 'corp:ops']);

    bed.upstream.accounts.get('alice')!.disabled = true;
    try {
      const error = await client.refreshTokenGrant(bed.rp, refreshed.refresh_token!).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).toBe('invalid_grant');
    } finally {
      bed.upstream.accounts.get('alice')!.disabled = false;
      bed.upstream.accounts.get('alice')!.groups = ['admins', 'devs'];
    }
    // The family was revoked: even with the upstream account back, the token stays dead.
    const again = await client.refreshTokenGrant(bed.rp, refreshed.refresh_token!).then(() => undefined, (caught: unknown) => caught);
    expect((again as client.ResponseBodyError).error).toBe('invalid_grant');
  });

  it('OIDC upstream with allowedGroups: a person outside them gets a readable refusal page and an audit line', async () => {
    bed.upstream.nextAccount = 'alice';
    const error = await federatedLogin('corp-ops').then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toMatch(/not in a group allowed/);
    expect(bed.idgate.audit.events).toContainEqual(expect.objectContaining({ event: 'login', connectorId: 'corp-ops', outcome: 'refused', reason: 'not_in_allowed_groups' }));
  });

  it('SAML IdP: the RP gets tokens with the asserted identity', async () => {
    const tokens = await federatedLogin('corp-saml');
    expect(tokens.claims()).toMatchObject({ email: 'sam@example.com', name: 'Sam SAML', groups: ['wiki-editors'] });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ email: 'sam@example.com', groups: ['wiki-editors'] });
    expect(tokens.refresh_token).toBeTruthy();
    expect((await client.refreshTokenGrant(bed.rp, tokens.refresh_token!)).claims()?.email).toBe('sam@example.com');
  });

  it('SAML: idgate serves the SP metadata for the connector', async () => {
    const response = await fetch(`${bed.idgate.url}/saml/corp-saml/metadata`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`Location="${bed.idgate.url}/callback/corp-saml"`);
  });

  it('LDAP directory: the RP gets tokens for the person who typed the password', async () => {
    const tokens = await federatedLogin('ldap', { username: 'dora', password: 'dora-password' });
    expect(tokens.claims()).toMatchObject({ email: 'dora@example.org', name: 'Dora Directory', groups: ['readers'] });
    expect((await client.refreshTokenGrant(bed.rp, tokens.refresh_token!)).claims()?.groups).toEqual(['readers']);
  });

  it('LDAP directory: a wrong password does not get through', async () => {
    const error = await federatedLogin('ldap', { username: 'dora', password: 'nope' }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(401);
    expect((error as LoginPageError).html).toMatch(/Incorrect username or password/);
    expect(bed.idgate.audit.events).toContainEqual(expect.objectContaining({ connectorId: 'ldap', outcome: 'refused' }));
  });

  it('an upstream that does not answer gets the person a readable page within the timeout', async () => {
    const started = Date.now();
    const error = await federatedLogin('corp-silent').then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(502);
    expect((error as LoginPageError).html).toMatch(/did not answer/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a client limited by allowedConnectors cannot use another connector, and can use its own', async () => {
    const authURL = (connector: string) => `${bed.idgate.url}/auth?${new URLSearchParams({
      client_id: LDAP_ONLY_APP.id, redirect_uri: LDAP_ONLY_APP.redirectURI, response_type: 'code', scope: 'openid email', state: 's', connector_id: connector,
    })}`;
    const refused = await followLogin(authURL('corp'), { redirectURI: LDAP_ONLY_APP.redirectURI });
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('error_description')).toMatch(/not allowed for this client/);
    const allowed = await followLogin(authURL('ldap'), { redirectURI: LDAP_ONLY_APP.redirectURI, username: 'dora', password: 'dora-password' });
    expect(allowed.searchParams.get('code')).toBeTruthy();
  });
});
