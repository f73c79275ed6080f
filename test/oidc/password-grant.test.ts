// The password grant (RFC 6749 §4.3) with oauth2.passwordConnector, driven by openid-client's generic
// grant request: tokens as a login issues them, refusals with the RFC's codes, the login throttle shared
// with the password form, and off (unsupported_grant_type) without a passwordConnector.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../src/oidc/claims.js';
import { ADMIN_DN, ADMIN_PW, startSlapd, SUFFIX } from '../connectors/ldap/slapd.js';
import { followLogin, LoginPageError } from '../helpers/http-login.js';
import { ADMIN, EXAMPLE_APP, PUBLIC_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

const HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W'; // "password"
const users = ['admin', 'bob', 'carol', 'dave'];

function passwordConfig(oauth2: string): string {
  return `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
${oauth2}
login:
  throttle: { maxFailures: 3, window: 15m, lockout: 5m }
staticClients:
  - id: ${EXAMPLE_APP.id}
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
  - id: ${PUBLIC_APP.id}
    public: true
    redirectURIs: [${PUBLIC_APP.redirectURI}]
  - id: code-only
    secret: code-only-secret
    grantTypes: [authorization_code]
  - id: mock-only
    secret: mock-only-secret
    allowedConnectors: [mock]
connectors:
  - type: mockCallback
    id: mock
    name: Mock
enablePasswordDB: true
staticPasswords:
${users.map((name, index) => `  - { email: "${name === 'admin' ? ADMIN.email : `${name}@example.com`}", hash: "${HASH}", username: ${name}, userID: ${index === 0 ? ADMIN.userId : `u-${name}`}, groups: [staff] }`).join('\n')}
`;
}

let idp: TestIssuer;

beforeAll(async () => {
  idp = await startTestIssuer({ configYaml: passwordConfig('  passwordConnector: local') });
});
afterAll(() => idp.close());

function relyingParty(issuer: TestIssuer, id: string, secret?: string): Promise<client.Configuration> {
  const auth = secret ? client.ClientSecretBasic(secret) : client.None();
  return client.discovery(new URL(issuer.url), id, undefined, auth, { execute: [client.allowInsecureRequests] });
}

const passwordGrant = (rp: client.Configuration, parameters: Record<string, string>) => client.genericGrantRequest(rp, 'password', parameters);

async function refusal(request: Promise<unknown>): Promise<{ status: number; error: string; description: string }> {
  try {
    await request;
  } catch (error) {
    const { status, error: code, error_description: description } = error as { status: number; error: string; error_description: string };
    return { status, error: code, description };
  }
  throw new Error('expected the grant to be refused');
}

describe('password grant', () => {
  it('is advertised once passwordConnector is set', async () => {
    const rp = await relyingParty(idp, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    expect(rp.serverMetadata().grant_types_supported).toContain('password');
  });

  it('issues ID, access and refresh tokens for the connector\'s user, and the refresh token works', async () => {
    const rp = await relyingParty(idp, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    const tokens = await passwordGrant(rp, { username: ADMIN.email, password: ADMIN.password, scope: 'openid email groups offline_access', nonce: 'n-123' });
    expect(tokens.claims()).toMatchObject({
      iss: idp.url, aud: EXAMPLE_APP.id, sub: subjectOf(ADMIN.userId, 'local'), email: ADMIN.email, groups: ['staff'], nonce: 'n-123',
    });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('openid email groups offline_access');
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(subjectOf(ADMIN.userId, 'local'));
    expect(idp.audit.events.findLast((event) => event.event === 'token_issued')).toMatchObject({ grant: 'refresh_token', connectorId: 'local' });
  });

  it('issues no refresh token without offline_access, and requires openid', async () => {
    const rp = await relyingParty(idp, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    const tokens = await passwordGrant(rp, { username: 'bob@example.com', password: 'password', scope: 'openid' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(await refusal(passwordGrant(rp, { username: 'bob@example.com', password: 'password', scope: 'email' })))
      .toEqual({ status: 400, error: 'invalid_scope', description: 'the scope must include "openid"' });
    expect(await refusal(passwordGrant(rp, { username: 'bob@example.com', password: 'password', scope: 'openid admin' })))
      .toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('refuses a wrong password or an unknown user with invalid_grant, and never audits the password', async () => {
    const rp = await relyingParty(idp, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    expect(await refusal(passwordGrant(rp, { username: 'carol@example.com', password: 'wrong-password-1', scope: 'openid' })))
      .toEqual({ status: 400, error: 'invalid_grant', description: 'invalid username or password' });
    expect(await refusal(passwordGrant(rp, { username: 'nobody@example.com', password: 'wrong-password-1', scope: 'openid' })))
      .toEqual({ status: 400, error: 'invalid_grant', description: 'invalid username or password' });
    expect(JSON.stringify(idp.audit.events)).not.toContain('wrong-password-1');
    expect(await refusal(passwordGrant(rp, { username: 'carol@example.com', scope: 'openid' })))
      .toEqual({ status: 400, error: 'invalid_request', description: 'the "password" parameter is required' });
  });

  it('shares the login throttle with the password form: a locked user is refused even with the right password', async () => {
    const rp = await relyingParty(idp, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    for (let attempt = 1; attempt <= 2; attempt++) {
      expect(await refusal(passwordGrant(rp, { username: 'dave@example.com', password: 'guess', scope: 'openid' })))
        .toMatchObject({ error: 'invalid_grant', description: 'invalid username or password' });
    }
    expect(await refusal(passwordGrant(rp, { username: 'dave@example.com', password: 'guess', scope: 'openid' })))
      .toMatchObject({ error: 'invalid_grant', description: 'invalid username or password; too many failed attempts: try again in 5 minutes' });
    expect(await refusal(passwordGrant(rp, { username: 'dave@example.com', password: 'password', scope: 'openid' })))
      .toEqual({ status: 400, error: 'invalid_grant', description: 'too many failed sign-in attempts: try again in 5 minutes' });

    // The same lock holds at the password form.
    const web = await relyingParty(idp, EXAMPLE_APP.id, EXAMPLE_APP.secret);
    const authURL = client.buildAuthorizationUrl(web, { redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid', connector_id: 'local' });
    const login = followLogin(authURL.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: 'dave@example.com', password: 'password' });
    await expect(login).rejects.toBeInstanceOf(LoginPageError);
    await expect(login).rejects.toMatchObject({ status: 429 });

    // A confidential client calls from its server: other users of that address are not locked out.
    await expect(passwordGrant(rp, { username: 'bob@example.com', password: 'password', scope: 'openid' })).resolves.toHaveProperty('access_token');
  });

  it('counts a public client\'s failures against its caller\'s address too, so guessing across users is slowed', async () => {
    const sprayer = await startTestIssuer({ configYaml: passwordConfig('  passwordConnector: local') });
    try {
      const rp = await relyingParty(sprayer, PUBLIC_APP.id);
      for (const name of ['bob', 'carol', 'dave']) {
        await refusal(passwordGrant(rp, { username: `${name}@example.com`, password: 'guess', scope: 'openid' }));
      }
      expect(await refusal(passwordGrant(rp, { username: ADMIN.email, password: ADMIN.password, scope: 'openid' })))
        .toMatchObject({ error: 'invalid_grant', description: 'too many failed sign-in attempts: try again in 5 minutes' });
    } finally {
      await sprayer.close();
    }
  });

  it('refuses a client not registered for the grant, and one limited to other connectors', async () => {
    const codeOnly = await relyingParty(idp, 'code-only', 'code-only-secret');
    expect(await refusal(passwordGrant(codeOnly, { username: ADMIN.email, password: ADMIN.password, scope: 'openid' })))
      .toEqual({ status: 400, error: 'unauthorized_client', description: 'client "code-only" is not registered for grant_type "password" (its grantTypes)' });
    const mockOnly = await relyingParty(idp, 'mock-only', 'mock-only-secret');
    expect(await refusal(passwordGrant(mockOnly, { username: ADMIN.email, password: ADMIN.password, scope: 'openid' })))
      .toEqual({ status: 400, error: 'invalid_grant', description: 'client "mock-only" may not use connector "local"' });
  });

  it('refuses a client whose authentication fails before any password is checked', async () => {
    const wrong = await relyingParty(idp, EXAMPLE_APP.id, 'not-the-secret');
    // openid-client reports a 401 with a challenge (Basic, as the client used) rather than the body.
    await expect(passwordGrant(wrong, { username: ADMIN.email, password: ADMIN.password, scope: 'openid' }))
      .rejects.toMatchObject({ code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', status: 401, cause: [{ scheme: 'basic', parameters: { realm: 'idgate' } }] });
    expect(idp.audit.events.at(-1)).toMatchObject({ event: 'token_refused', reason: 'invalid_client', grant: 'password' });
  });
});

describe('password grant without passwordConnector', () => {
  it('is off: unsupported_grant_type, and not advertised', async () => {
    const off = await startTestIssuer({ configYaml: passwordConfig('') });
    try {
      const rp = await relyingParty(off, EXAMPLE_APP.id, EXAMPLE_APP.secret);
      expect(rp.serverMetadata().grant_types_supported).not.toContain('password');
      expect(await refusal(passwordGrant(rp, { username: ADMIN.email, password: ADMIN.password, scope: 'openid' })))
        .toEqual({ status: 400, error: 'unsupported_grant_type', description: 'grant_type "password" is not supported' });
    } finally {
      await off.close();
    }
  });
});

describe('password grant through the LDAP connector', () => {
  it('checks the password with the directory and maps its identity and groups', async () => {
    const slapd = await startSlapd();
    await slapd.ldapadd(`dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n` +
      `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\ndn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n` +
      `dn: uid=dora,ou=people,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: dora\ncn: Dora Directory\nsn: D\nmail: dora@example.org\nuserPassword: dora-password\n\n` +
      `dn: cn=readers,ou=groups,${SUFFIX}\nobjectClass: groupOfNames\ncn: readers\nmember: uid=dora,ou=people,${SUFFIX}\n`);
    const directory = await startTestIssuer({ configYaml: `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  passwordConnector: ldap
staticClients:
  - id: ${EXAMPLE_APP.id}
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
connectors:
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
` });
    try {
      const rp = await relyingParty(directory, EXAMPLE_APP.id, EXAMPLE_APP.secret);
      const tokens = await passwordGrant(rp, { username: 'dora', password: 'dora-password', scope: 'openid email groups offline_access' });
      expect(tokens.claims()).toMatchObject({ sub: subjectOf('dora', 'ldap'), email: 'dora@example.org', groups: ['readers'] });
      expect(tokens.refresh_token).toBeTruthy();
      expect(await refusal(passwordGrant(rp, { username: 'dora', password: 'not-it', scope: 'openid' })))
        .toEqual({ status: 400, error: 'invalid_grant', description: 'invalid username or password' });
    } finally {
      await directory.close();
      await slapd.stop();
    }
  });
});
