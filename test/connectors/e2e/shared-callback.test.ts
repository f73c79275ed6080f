/**
 * Dex's shared `redirectURI: <issuer>/callback` for OIDC connectors, end to end: two OIDC connectors
 * against a real upstream (oidc-provider) that only knows idgate's /callback, an openid-client RP
 * downstream. The /callback route finds each login's connector from the auth request in `state`.
 * A redirectURI that is neither callback keeps the connector from opening, which `idgate check`'s
 * preflight reports with the connector's config path.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { preflightConfig } from '../../../src/config/preflight.js';
import { freePort } from '../../helpers/free-port.js';
import { followLogin } from '../../helpers/http-login.js';
import { EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../../helpers/issuer.js';
import { startUpstreamIdP, type UpstreamIdP } from '../oidc/upstream-idp.js';

let idgate: TestIssuer;
let upstream: UpstreamIdP;
let rp: client.Configuration;

function connector(id: string, upstreamIssuer: string, redirectURI: string): string {
  return `  - type: oidc
    id: ${id}
    name: ${id}
    config:
      issuer: ${upstreamIssuer}
      clientID: idgate
      clientSecret: upstream-secret-for-tests
      redirectURI: ${redirectURI}
      scopes: [profile, email]
`;
}

beforeAll(async () => {
  const upstreamIssuer = `http://127.0.0.1:${await freePort()}`;
  idgate = await startTestIssuer({
    configYaml: (issuerURL) => `
storage: { type: memory }
web: { http: 127.0.0.1:0 }
oauth2: { skipApprovalScreen: true }
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
connectors:
${connector('corp', upstreamIssuer, `${issuerURL}/callback`)}${connector('partner', upstreamIssuer, `${issuerURL}/callback`)}`,
  });
  upstream = await startUpstreamIdP({ redirectURIs: [`${idgate.url}/callback`], port: Number(new URL(upstreamIssuer).port) });
  upstream.accounts.set('alice', { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true });
  rp = await client.discovery(new URL(idgate.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
});
afterAll(async () => {
  await Promise.all([idgate?.close(), upstream?.close()]);
});

describe("Dex's shared <issuer>/callback", () => {
  it.each(['corp', 'partner'])('logs in through connector %s, the upstream answering at /callback', async (connectorId) => {
    upstream.nextAccount = 'alice';
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: 'openid email profile', state: 'st', nonce: 'n',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: connectorId,
    });
    const callback = await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI });
    const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: 'st', expectedNonce: 'n' });
    expect(tokens.claims()).toMatchObject({ email: 'alice@example.com', name: 'Alice Liddell' });
    expect(idgate.audit.events).toContainEqual(expect.objectContaining({ event: 'login', connectorId, outcome: 'succeeded' }));
  });

  it('is refused by idgate check when redirectURI is neither callback', async () => {
    const config = parseConfig(`issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: 127.0.0.1:5556 }
connectors:
${connector('corp', upstream.issuer, 'http://127.0.0.1:5556/dex/oauth2/callback')}`, 'check.yaml', {});
    const problems = await preflightConfig(config);
    expect(problems).toHaveLength(1);
    expect(JSON.stringify(problems[0])).toMatch(/connectors.*0.*config/);
    expect(JSON.stringify(problems[0])).toMatch(/redirectURI must be http:\/\/127\.0\.0\.1:5556\/dex\/callback\/corp or http:\/\/127\.0\.0\.1:5556\/dex\/callback/);
  });
});
