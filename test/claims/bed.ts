/**
 * The claim rules' test bed: a whole idgate issuer (test/helpers/issuer.ts) with `directory`, a
 * password connector registered for these tests whose people and upstream claims the test sets and
 * changes (DIRECTORY), and openid-client as example-app, logging in through the real login pages
 * (test/helpers/http-login.ts). The connector refreshes by the user ID it returned itself, and
 * refuses any other: a refresh handed the mapped identity instead of its own fails.
 */
import * as client from 'openid-client';
import { z } from 'zod';
import { ConnectorError, registerConnector, type Identity } from '../../src/connector.js';
import { followLogin } from '../helpers/http-login.js';
import { EXAMPLE_APP, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';

export interface Person {
  password: string;
  identity: Omit<Identity, 'claims' | 'connectorData'>;
  claims: Record<string, unknown>;
}

/** username → person; tests change entries between a login and a refresh. */
export const DIRECTORY = new Map<string, Person>();

registerConnector('directory', {
  kind: 'password',
  configSchema: z.strictObject({}),
  async open() {
    const person = (userId: string) => [...DIRECTORY.values()].find((entry) => entry.identity.userId === userId);
    return {
      kind: 'password' as const,
      prompt: () => 'Username',
      async login(_scopes, username, password) {
        const entry = DIRECTORY.get(username);
        if (!entry || entry.password !== password) return undefined;
        return { ...structuredClone(entry.identity), claims: structuredClone(entry.claims), connectorData: new TextEncoder().encode(`own:${entry.identity.userId}`) };
      },
      async refresh(_scopes, identity) {
        const entry = person(identity.userId);
        const data = new TextDecoder().decode(identity.connectorData);
        if (!entry || data !== `own:${identity.userId}`) throw new ConnectorError('access_denied', `refresh was given an identity this connector did not return (${identity.userId})`);
        return { ...structuredClone(entry.identity), claims: structuredClone(entry.claims), connectorData: identity.connectorData };
      },
    };
  },
});

export function person(username: string, claims: Record<string, unknown>, identity: Partial<Person['identity']> = {}): Person {
  return {
    password: 'secret',
    identity: { userId: `id-${username}`, username, email: `${username}@example.com`, emailVerified: true, groups: ['staff'], ...identity },
    claims,
  };
}

/** The config body with `connectorYaml` (indented under the connector entry) and `clientYaml` (under example-app). */
export function bedConfig(connectorYaml: string, clientYaml = '', more = ''): string {
  return `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
  passwordConnector: directory
staticClients:
  - id: ${EXAMPLE_APP.id}
    name: Example App
    secret: ${EXAMPLE_APP.secret}
    redirectURIs: [${EXAMPLE_APP.redirectURI}]
${clientYaml}
connectors:
  - type: directory
    id: directory
    name: Directory
${connectorYaml}
${more}`;
}

export interface ClaimsBed {
  idgate: TestIssuer;
  rp: client.Configuration;
  /** The authorization URL for a fresh login, and how to redeem the callback it ends at. */
  authorize(scope?: string): Promise<{ url: URL; redeem(callback: URL): ReturnType<typeof client.authorizationCodeGrant> }>;
  /** A whole login through the pages, then the code redeemed. */
  login(username: string, scope?: string): ReturnType<typeof client.authorizationCodeGrant>;
  close(): Promise<void>;
}

export async function startClaimsBed(configYaml: string): Promise<ClaimsBed> {
  const idgate = await startTestIssuer({ configYaml });
  const rp = await client.discovery(new URL(idgate.url), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  const authorize: ClaimsBed['authorize'] = async (scope = 'openid email profile groups offline_access') => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope, state, connector_id: 'directory',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return { url, redeem: (callback) => client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state }) };
  };
  return {
    idgate,
    rp,
    authorize,
    async login(username, scope) {
      const { url, redeem } = await authorize(scope);
      return redeem(await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, username, password: DIRECTORY.get(username)?.password ?? 'wrong' }));
    },
    close: () => idgate.close(),
  };
}
