/**
 * Claim rules end to end through the OIDC connector: idgate in front of a real upstream OpenID
 * Provider (oidc-provider), openid-client as the downstream client. The upstream's `groups` claim
 * becomes idgate's groups by a CEL mapping (the connector itself reads no groups: no
 * insecureEnableGroups), after Dex's claimMapping has picked the email; a claim validation rule
 * over the upstream's claims refuses another account with its message on the login error page.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followLogin, LoginPageError } from '../../helpers/http-login.js';
import { freePort } from '../../helpers/free-port.js';
import { EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { startUpstreamIdP, type UpstreamIdP } from './upstream-idp.js';

let idgate: TestIssuer;
let upstream: UpstreamIdP;
let rp: client.Configuration;

function config(upstreamIssuer: string): string {
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
      getUserInfo: true
      claimMapping:
        email: preferred_username
      overrideClaimMapping: true
    claimMappings:
      username:
        expression: claims.name.lowerAscii()
      groups:
        expression: 'has(claims.groups) ? claims.groups.map(g, "corp:" + g) : []'
      extra:
        - key: upstream_email
          valueExpression: claims.email
    claimValidationRules:
      - expression: claims.email.endsWith("@example.com")
        message: Sign in with your example.com account
`;
}

beforeAll(async () => {
  const port = await freePort();
  idgate = await startTestIssuer({ configYaml: config(`http://127.0.0.1:${port}`) });
  upstream = await startUpstreamIdP({ redirectURIs: [`${idgate.url}/callback/corp`], port });
  upstream.accounts.set('alice', { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true, preferred_username: 'alice@corp.example', groups: ['admins', 'devs'] });
  upstream.accounts.set('mallory', { sub: 'mallory', name: 'Mallory', email: 'mallory@evil.example', email_verified: true, preferred_username: 'mallory', groups: ['admins'] });
  rp = await client.discovery(new URL(idgate.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), { execute: [client.allowInsecureRequests] });
});
afterAll(async () => {
  await idgate?.close();
  await upstream?.close();
});

async function login(account: string) {
  upstream.nextAccount = account;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email profile groups', state, connector_id: 'corp',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI });
  return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state });
}

describe('CEL claim rules on the OIDC connector', () => {
  it('maps the upstream groups claim into idgate\'s groups, after Dex\'s claimMapping', async () => {
    const tokens = await login('alice');
    expect(tokens.claims()).toMatchObject({
      name: 'alice liddell',
      groups: ['corp:admins', 'corp:devs'],
      // Dex's claimMapping (email from preferred_username) ran first; the CEL claims are still the upstream's.
      email: 'alice@corp.example',
      upstream_email: 'alice@example.com',
    });
  });

  it('refuses another domain with the rule\'s message on the login error page', async () => {
    const error = await login('mallory').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoginPageError);
    expect((error as LoginPageError).status).toBe(403);
    expect((error as LoginPageError).html).toContain('Sign in with your example.com account');
  });
});
