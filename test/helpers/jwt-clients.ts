/**
 * Clients that authenticate with JWTs (RFC 7523), for tests: key pairs with their public JWK, a JWKS
 * server on 127.0.0.1 whose keys a test can change (it counts fetches), and a config with one static
 * client per method beside the password DB.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { ADMIN, startTestIssuer, type TestIssuer } from './issuer.js';

export interface KeyPair {
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function keyPair(alg: 'ES256' | 'RS256' | 'PS256' | 'Ed25519', kid: string): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

/** A JWKS document on 127.0.0.1 whose keys a test can change, counting fetches. */
export interface KeyServer {
  url: string;
  /** What the next fetch returns. */
  keys: JWK[];
  fetches: number;
  close(): Promise<void>;
}

export async function startKeyServer(keys: JWK[]): Promise<KeyServer> {
  const state: KeyServer = { url: '', keys, fetches: 0, close: async () => undefined };
  const server = http.createServer((_req, res) => {
    state.fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}

export const HMAC_SECRET = 'a-static-client-secret-of-48-bytes-for-HS384-ok!';
export const REDIRECT_URI = 'http://127.0.0.1:5555/jwt/callback';

/** Static clients for every method, beside the password DB (ADMIN) of the default test config. */
export function jwtClientsConfig(options: { inline: JWK[]; jwksURI: string }): string {
  return `
storage:
  type: memory
web:
  http: 127.0.0.1:0
oauth2:
  skipApprovalScreen: true
staticClients:
  - id: inline-keys
    name: Inline keys
    tokenEndpointAuthMethod: private_key_jwt
    jwks: ${JSON.stringify({ keys: options.inline })}
    redirectURIs: [${REDIRECT_URI}]
  - id: remote-keys
    name: Remote keys
    tokenEndpointAuthMethod: private_key_jwt
    jwksURI: ${options.jwksURI}
    redirectURIs: [${REDIRECT_URI}]
  - id: hmac
    name: HMAC
    tokenEndpointAuthMethod: client_secret_jwt
    secret: ${HMAC_SECRET}
    redirectURIs: [${REDIRECT_URI}]
  - id: basic
    name: Basic
    secret: basic-secret
    redirectURIs: [${REDIRECT_URI}]
enablePasswordDB: true
staticPasswords:
  - email: ${ADMIN.email}
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: ${ADMIN.userId}
`;
}


export interface JwtClientsBed {
  idp: TestIssuer;
  /** inline-keys' key (ES256, kid inline-1). */
  inline: KeyPair;
  /** remote-keys' key (kid remote-1), served by keyServer. */
  remote: KeyPair;
  keyServer: KeyServer;
  close(): Promise<void>;
}

/** An issuer with the clients of jwtClientsConfig, their keys, and the key server for remote-keys. */
export async function startJwtClientsBed(remoteAlg: 'RS256' | 'Ed25519'): Promise<JwtClientsBed> {
  const inline = await keyPair('ES256', 'inline-1');
  const remote = await keyPair(remoteAlg, 'remote-1');
  const keyServer = await startKeyServer([remote.jwk]);
  const idp = await startTestIssuer({ configYaml: jwtClientsConfig({ inline: [inline.jwk], jwksURI: keyServer.url }) });
  return {
    idp, inline, remote, keyServer,
    async close() {
      await idp.close();
      await keyServer.close();
    },
  };
}
