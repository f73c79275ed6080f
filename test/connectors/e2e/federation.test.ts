// Federated logins through the whole idgate issuer, end to end over HTTP: a downstream openid-client
// RP signs in through an upstream OIDC IdP (oidc-provider), a SAML IdP and an LDAP directory (slapd),
// and gets ID and access tokens with the mapped username, email and groups; upstream refresh; a
// person outside allowedGroups gets a readable refusal page; audit lines name connector and reason.
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginPageError, followLogin } from '../../helpers/http-login.js';
import { EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { ADMIN_DN, ADMIN_PW, SUFFIX, freePort, startSlapd, type Slapd } from '../ldap/slapd.js';
import { startUpstreamIdP, type UpstreamIdP } from '../oidc/upstream-idp.js';
import { startHttpSamlIdP, type HttpSamlIdP } from '../saml/http-idp.js';
import { keyFactory } from '../saml/test-idp.js';

let idgate: TestIssuer;
let upstream: UpstreamIdP;
let samlIdP: HttpSamlIdP;
let slapd: Slapd;
let keys: Awaited<ReturnType<typeof keyFactory>>;
let rp: client.Configuration;

function configYaml(upstreamIssuer: string, ssoURL: string, samlCert: string): string {
  return `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
connectors:
  - type: oidc
    id: corp
    name: Corp SSO
    config:
      issuer: ${upstreamIssuer}
      clientID: idgate
      clientSecret: upstream-secret-for-tests
      scopes: [profile, email, groups]
      insecureEnableGroups: true
      getUserInfo: true
      claimModifications:
        modifyGroupNames: { prefix: "corp:" }
  - type: oidc
    id: corp-ops
    name: Corp SSO (ops only)
    config:
      issuer: ${upstreamIssuer}
      clientID: idgate
      clientSecret: upstream-secret-for-tests
      scopes: [profile, email, groups]
      insecureEnableGroups: true
      allowedGroups: [ops]
  - type: saml
    id: corp-saml
    name: Corp SAML
    config:
      ssoURL: ${ssoURL}
      caData: ${Buffer.from(samlCert).toString('base64')}
      usernameAttr: name
      emailAttr: email
      groupsAttr: groups
  - type: ldap
    id: ldap
    name: Directory
    config:
      host: 127.0.0.1:${slapd.port}
      insecureNoSSL: true
      bindDN: ${ADMIN_DN}
      bindPW: ${ADMIN_PW}
      userSearch: { baseDN: "ou=people,${SUFFIX}", username: uid, idAttr: uid, emailAttr: mail, nameAttr: cn }
      groupSearch:
        baseDN: "ou=groups,${SUFFIX}"
        userMatchers: [{ userAttr: DN, groupAttr: member }]
        nameAttr: cn
`;
}

beforeAll(async () => {
  keys = await keyFactory();
  const samlKey = await keys.make('e2e-idp');
  slapd = await startSlapd();
  await slapd.ldapadd(`dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n` +
    `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\ndn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n` +
    `dn: uid=dora,ou=people,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: dora\ncn: Dora Directory\nsn: D\nmail: dora@example.org\nuserPassword: dora-password\n\n` +
    `dn: cn=readers,ou=groups,${SUFFIX}\nobjectClass: groupOfNames\ncn: readers\nmember: uid=dora,ou=people,${SUFFIX}\n`);
  samlIdP = await startHttpSamlIdP(samlKey, {
    nameId: 'sam-persistent-id',
    attributes: { name: ['Sam SAML'], email: ['sam@example.com'], groups: ['wiki-editors'] },
  });
  const upstreamPort = await freePort();
  idgate = await startTestIssuer({ configYaml: configYaml(`http://127.0.0.1:${upstreamPort}`, samlIdP.ssoURL, samlKey.cert) });
  upstream = await startUpstreamIdP({ redirectURIs: [`${idgate.url}/callback/corp`, `${idgate.url}/callback/corp-ops`], port: upstreamPort });
  upstream.accounts.set('alice', {
    sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true, preferred_username: 'alice', groups: ['admins', 'devs'],
  });
  rp = await client.discovery(new URL(idgate.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(rp);
});

afterAll(async () => {
  await Promise.all([idgate?.close(), upstream?.close(), samlIdP?.close(), slapd?.stop(), keys?.cleanup()]);
});

async function federatedLogin(connector: string, credentials: { username?: string; password?: string } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authURL = client.buildAuthorizationUrl(rp, {
    redirect_uri: EXAMPLE_APP.redirectURI,
    scope: 'openid email profile groups offline_access',
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    connector_id: connector,
  });
  const callback = await followLogin(authURL.href, { redirectURI: EXAMPLE_APP.redirectURI, ...credentials });
  return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
}

describe('federated login through idgate', () => {
  it('OIDC upstream: the RP gets ID and access tokens with the mapped identity, and refresh goes upstream', async () => {
    upstream.nextAccount = 'alice';
    const tokens = await federatedLogin('corp');
    const expected = { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', preferred_username: 'alice', groups: ['corp:admins', 'corp:devs'] };
    expect(tokens.claims()).toMatchObject({ iss: idgate.url, aud: EXAMPLE_APP.id, ...expected });
    expect(decodeJwt(tokens.access_token)).toMatchObject(expected);
    expect(idgate.audit.events).toContainEqual(expect.objectContaining({ event: 'login', connector: 'corp', result: 'success', user: 'alice@example.com' }));

    upstream.accounts.get('alice')!.groups = ['admins', 'devs', 'ops'];
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()?.groups).toEqual(['corp:admins', 'corp:devs', 'corp:ops']);

    upstream.accounts.get('alice')!.disabled = true;
    try {
      const error = await client.refreshTokenGrant(rp, refreshed.refresh_token!).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).toBe('invalid_grant');
    } finally {
      upstream.accounts.get('alice')!.disabled = false;
      upstream.accounts.get('alice')!.groups = ['admins', 'devs'];
    }
  });

  it('OIDC upstream with allowedGroups: a person outside them gets a readable refusal page and an audit line', async () => {
    upstream.nextAccount = 'alice';
    const error = await federatedLogin('corp-ops').then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toMatch(/not in a group allowed/);
    expect(idgate.audit.events).toContainEqual(expect.objectContaining({ event: 'login', connector: 'corp-ops', result: 'failure', reason: 'not_in_allowed_groups' }));
  });

  it('SAML IdP: the RP gets tokens with the asserted identity', async () => {
    const tokens = await federatedLogin('corp-saml');
    expect(tokens.claims()).toMatchObject({ email: 'sam@example.com', name: 'Sam SAML', groups: ['wiki-editors'] });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ email: 'sam@example.com', groups: ['wiki-editors'] });
    expect(tokens.refresh_token).toBeTruthy();
    expect((await client.refreshTokenGrant(rp, tokens.refresh_token!)).claims()?.email).toBe('sam@example.com');
  });

  it('SAML: idgate serves the SP metadata for the connector', async () => {
    const response = await fetch(`${idgate.url}/saml/corp-saml/metadata`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`Location="${idgate.url}/callback/corp-saml"`);
  });

  it('LDAP directory: the RP gets tokens for the person who typed the password', async () => {
    const tokens = await federatedLogin('ldap', { username: 'dora', password: 'dora-password' });
    expect(tokens.claims()).toMatchObject({ email: 'dora@example.org', name: 'Dora Directory', groups: ['readers'] });
    expect((await client.refreshTokenGrant(rp, tokens.refresh_token!)).claims()?.groups).toEqual(['readers']);
  });

  it('LDAP directory: a wrong password does not get through', async () => {
    const error = await federatedLogin('ldap', { username: 'dora', password: 'nope' }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(401);
    expect((error as LoginPageError).html).toMatch(/Incorrect username or password/);
    expect(idgate.audit.events).toContainEqual(expect.objectContaining({ connector: 'ldap', result: 'failure' }));
  });
});
