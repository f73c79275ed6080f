/**
 * The OIDC connector's test bed: two real upstreams (oidc-provider; one that conforms ID token
 * claims, so groups and profile come only from userinfo) with known accounts, a connector factory
 * bound to them, a login helper that plays the browser, and a token endpoint in front of the real one
 * that rewrites the ID token (re-signed with the upstream's own key, or with a broken signature).
 */
import { createServer, type Server } from 'node:http';
import { CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';
import { connectorFactory, type CallbackConnector, type RefreshConnector } from '../../../src/connector.js';
import '../../../connectors/index.js';
import { testContext } from '../context.js';
import { browseUpstream, listen, startUpstreamIdP, type UpstreamIdP } from './upstream-idp.js';

export const CALLBACK = 'http://127.0.0.1:5556/dex/callback/corp';
export const scopes = { offlineAccess: false, groups: true };
export type OIDCConnector = CallbackConnector & RefreshConnector;
export type TokenRequest = { authorization?: string; body: string };

export interface OIDCBed {
  idp: UpstreamIdP;
  conforming: UpstreamIdP;
  open(config: Record<string, unknown>, upstream?: UpstreamIdP): Promise<OIDCConnector>;
  login(connector: OIDCConnector, options?: { offline?: boolean; account?: string; upstream?: UpstreamIdP }): Promise<{
    callback: URL;
    connectorData: Uint8Array | undefined;
    identity(): ReturnType<OIDCConnector['handleCallback']>;
  }>;
  tamperingTokenEndpoint(change: { claims?: Record<string, unknown>; breakSignature?: boolean }, seen?: TokenRequest[]): Promise<string>;
  /** Keeps a server the test started, to be closed with the bed. */
  track(server: Server): void;
  close(): Promise<void>;
}

export async function startOIDCBed(): Promise<OIDCBed> {
  const idp = await startUpstreamIdP({ redirectURIs: [CALLBACK] });
  const conforming = await startUpstreamIdP({ redirectURIs: [CALLBACK], conformIdTokenClaims: true });
  for (const upstream of [idp, conforming]) {
    upstream.accounts.set('alice', {
      sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true,
      preferred_username: 'alice', groups: ['admins', 'devs'],
    });
    upstream.accounts.set('bob', { sub: 'bob', name: 'Bob', email: 'bob@example.com', email_verified: true, groups: ['sales'] });
    upstream.accounts.set('eve', { sub: 'eve', name: 'Eve', email: 'eve@example.com' });
  }
  const servers: Server[] = [];

  const bed: OIDCBed = {
    idp,
    conforming,
    async open(config, upstream = idp) {
      const factory = connectorFactory('oidc')!;
      const parsed = factory.configSchema.parse({
        issuer: upstream.issuer, clientID: upstream.clientId, clientSecret: upstream.clientSecret, redirectURI: CALLBACK, ...config,
      });
      return (await factory.open(parsed, testContext('corp'))) as OIDCConnector;
    },
    async login(connector, options = {}) {
      (options.upstream ?? idp).nextAccount = options.account ?? 'alice';
      const s = { ...scopes, offlineAccess: options.offline ?? false };
      const { url, connectorData } = await connector.loginURL(s, CALLBACK, 'state-123');
      const callback = await browseUpstream(url, CALLBACK);
      return { callback, connectorData, identity: () => connector.handleCallback(s, connectorData, { url: callback }) };
    },
    async tamperingTokenEndpoint(change, seen = []) {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', async () => {
          seen.push({ authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
          const upstream = await fetch(`${idp.issuer}/token`, {
            method: 'POST',
            headers: { 'content-type': req.headers['content-type']!, ...(req.headers.authorization && { authorization: req.headers.authorization }) },
            body: Buffer.concat(chunks),
          });
          const body = (await upstream.json()) as { id_token?: string };
          if (body.id_token) {
            if (change.breakSignature) {
              const [h, p, sig] = body.id_token.split('.');
              body.id_token = `${h}.${p}.${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`;
            } else {
              const payload = { ...decodeJwt(body.id_token), ...change.claims };
              body.id_token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
                .setProtectedHeader(decodeProtectedHeader(body.id_token) as { alg: string })
                .sign(idp.signingKey);
            }
          }
          res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        });
      });
      servers.push(server);
      return `http://127.0.0.1:${await listen(server)}/token`;
    },
    track(server) {
      servers.push(server);
    },
    async close() {
      const closing = servers.map((server) => new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }));
      await Promise.all([idp.close(), conforming.close(), ...closing]);
    },
  };
  return bed;
}
