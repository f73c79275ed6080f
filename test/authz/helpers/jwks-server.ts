/**
 * A small issuer stand-in on a free port: serves OIDC discovery and a JWKS that the test can rotate,
 * counts fetches, and can be stopped and restarted (issuer down / back).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

export class JwksServer {
  fetches = 0;
  jwks: { keys: JWK[] };
  private server: http.Server | undefined;
  port = 0;

  constructor(jwks: { keys: JWK[] }) {
    this.jwks = jwks;
  }

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get jwksUri(): string {
    return `${this.issuer}/keys`;
  }

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (req.url === '/keys') {
        this.fetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.jwks));
      } else if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: this.issuer, jwks_uri: this.jwksUri }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
