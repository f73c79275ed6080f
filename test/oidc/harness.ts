// Test harness for the token side of the OP: an IssuerContext over memory storage and a manual clock,
// a koa app with only mountTokenRoutes and the introspection endpoint on an ephemeral 127.0.0.1 port,
// and seeders for clients and authorization codes (as the login flow would create them).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { manualClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load.js';
import type { Connector, Identity } from '../../src/connector.js';
import { createSigner } from '../../src/keys/signer.js';
import { createLogoutNotifier } from '../../src/sessions/backchannel.js';
import type { IssuerContext, OpenConnector } from '../../src/oidc/context.js';
import { mountIntrospectionRoutes } from '../../src/oidc/introspection.js';
import { mountTokenRoutes } from '../../src/oidc/routes.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { hashSecret, hashToken } from '../../src/storage/secrets.js';
import type { AuthCode, Client, StoredIdentity } from '../../src/storage/storage.js';
import { memoryAuditLog } from '../../src/telemetry/audit.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createIssuerMetrics } from '../../src/telemetry/metrics.js';

export const ALICE: StoredIdentity = {
  userId: 'u-alice',
  username: 'Alice Liddell',
  preferredUsername: 'alice',
  email: 'alice@example.com',
  emailVerified: true,
  groups: ['admins', 'dev'],
};

export interface RefreshBehaviour {
  /** What the upstream answers on refresh: a new identity, or an error to refuse. */
  next?: Partial<Identity> | Error;
  calls: number;
}

export interface TestServer {
  ctx: IssuerContext;
  issuer: string;
  clock: ReturnType<typeof manualClock>;
  audit: ReturnType<typeof memoryAuditLog>;
  upstream: RefreshBehaviour;
  /** ctx.state.route of every request served, in order. */
  routes: Array<string | undefined>;
  seedClient(client: Partial<Client> & { id: string; secret?: string }): Promise<void>;
  seedCode(overrides?: Partial<AuthCode> & { verifier?: string | null }): Promise<SeededCode>;
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface SeededCode {
  code: string;
  verifier: string;
  nonce: string;
  record: AuthCode;
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export function basic(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export async function startTestServer(options: { yaml?: string; logger?: Logger } = {}): Promise<TestServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dex`;
  // Defaults for top-level keys the test's own YAML does not set.
  const extra = options.yaml ?? '';
  const defaults = [
    'web: { http: "127.0.0.1:0", allowedOrigins: ["https://app.example"] }',
    'signer: { config: { algorithm: ES256 } }',
  ].filter((line) => !new RegExp(`^${line.split(':')[0]}:`, 'm').test(extra));
  const config = parseConfig([`issuer: ${issuer}`, 'storage: { type: memory }', ...defaults, extra].join('\n'), 'test', {});
  const clock = manualClock(Date.now());
  const storage = createStorage(createMemoryBackend(), { now: clock });
  const logger = options.logger ?? silentLogger();
  const signer = await createSigner(storage, {
    algorithm: config.signer.config.algorithm,
    rotationPeriod: config.keysRotationPeriod,
    tokenLifetime: Math.max(config.expiry.idTokens, config.expiry.accessTokens),
    now: clock,
    logger,
  });
  const upstream: RefreshBehaviour = { calls: 0 };
  const mock: Connector = {
    kind: 'password',
    prompt: () => 'Email',
    login: async () => undefined,
    refresh: async (_scopes, identity) => {
      upstream.calls++;
      if (upstream.next instanceof Error) throw upstream.next;
      return { ...identity, ...upstream.next };
    },
  };
  const static_: Connector = { kind: 'password', prompt: () => 'Email', login: async () => undefined };
  const connectors = new Map<string, OpenConnector>([
    ['mock', { id: 'mock', type: 'mockPassword', name: 'Mock', connector: mock }],
    ['saml', { id: 'saml', type: 'saml', name: 'No refresh', connector: static_ }],
  ]);
  const audit = memoryAuditLog();
  const ctx: IssuerContext = {
    config, issuer, basePath: '/dex', storage, signer, connectors, logger, audit,
    metrics: createIssuerMetrics(new Registry()),
    now: clock,
    backchannel: createLogoutNotifier({ storage, signer, issuer, audit, logger, now: clock }),
  };
  const router = new Router({ prefix: '/dex' });
  mountTokenRoutes(router, ctx);
  mountIntrospectionRoutes(router, ctx);
  const app = new Koa();
  const routes: Array<string | undefined> = [];
  app.use(async (koaCtx, next) => {
    // What the integrator's requestContext middleware provides in the real server.
    koaCtx.state.requestId = koaCtx.get('x-request-id') || randomBytes(8).toString('hex');
    await next();
    routes.push((koaCtx.state as { route?: string }).route);
  });
  app.use(router.routes());
  server.on('request', app.callback());

  return {
    ctx, issuer, clock, audit, upstream, routes,
    async seedClient({ secret, ...client }) {
      await storage.clients.create({
        secretHash: secret === undefined ? null : hashSecret(secret),
        redirectURIs: ['https://rp.example/callback'],
        trustedPeers: [],
        public: false,
        name: client.id,
        ...client,
      });
    },
    async seedCode(overrides = {}) {
      const { verifier: givenVerifier, ...fields } = overrides;
      const code = randomBytes(32).toString('base64url');
      const verifier = givenVerifier ?? randomBytes(32).toString('base64url');
      const nonce = randomBytes(8).toString('hex');
      const record: AuthCode = {
        id: hashToken(code),
        clientId: 'web',
        redirectURI: 'https://rp.example/callback',
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
        nonce,
        ...(givenVerifier === null ? {} : { codeChallenge: s256(verifier), codeChallengeMethod: 'S256' as const }),
        connectorId: 'mock',
        identity: ALICE,
        authTime: Math.floor(clock() / 1000),
        sessionId: randomBytes(16).toString('base64url'),
        createdAt: clock(),
        expiresAt: clock() + 60_000,
        ...fields,
      };
      await storage.authCodes.create(record);
      return { code, verifier, nonce, record };
    },
    post(path, form, headers = {}) {
      return fetch(`${issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form),
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
