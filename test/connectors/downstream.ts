/**
 * A whole idgate issuer (test/helpers/issuer.ts) with the connectors a test gives, and a downstream
 * openid-client RP registered as example-app, to drive a login end to end over HTTP: the RP's
 * authorization request, the login pages and the upstream (followLogin), and the code redeemed for
 * idgate's own tokens.
 */
import * as client from 'openid-client';
import { followLogin, type LoginOptions } from '../helpers/http-login.js';
import { EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

export interface Downstream {
  idgate: TestIssuer;
  rp: client.Configuration;
  /** The callback URL of a connector, to register at the upstream. */
  callback(connectorId: string): string;
  /** Plays the browser from `url` to the RP's redirect URI (throws LoginPageError on an error page). */
  follow(url: URL): Promise<URL>;
  /** A full login through `connectorId`, redeemed for tokens. */
  login(connectorId: string, scope?: string): ReturnType<typeof client.authorizationCodeGrant>;
  /** The RP's authorization URL for `connectorId`, and how to redeem where the login ended. */
  authorize(connectorId: string, scope?: string): Promise<{ url: URL; redeem(callback: URL): ReturnType<typeof client.authorizationCodeGrant> }>;
  close(): Promise<void>;
}

/**
 * `connectorsYaml` is the `connectors:` list, indented as a top-level key's value; `browser` is the
 * fetch the "browser" uses (one that trusts the test CA of an https upstream).
 */
export async function startDownstream(connectorsYaml: string, options: { env?: Record<string, string>; browser?: LoginOptions['fetch'] } = {}): Promise<Downstream> {
  const idgate = await startTestIssuer({
    env: options.env ?? {},
    configYaml: `
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
${connectorsYaml}
`,
  });
  const rp = await client.discovery(new URL(idgate.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(rp);
  const downstream: Downstream = {
    idgate,
    rp,
    callback: (connectorId) => `${idgate.url}/callback/${connectorId}`,
    async authorize(connectorId, scope = 'openid email profile groups offline_access') {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: EXAMPLE_APP.redirectURI,
        scope,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        connector_id: connectorId,
      });
      return { url, redeem: (callback) => client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }) };
    },
    follow: (url) => followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, fetch: options.browser }),
    async login(connectorId, scope) {
      const { url, redeem } = await downstream.authorize(connectorId, scope);
      return redeem(await downstream.follow(url));
    },
    close: () => idgate.close(),
  };
  return downstream;
}
