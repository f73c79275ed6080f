/**
 * A whole idgate for the console tests: issuer (password DB with three operators), filter (gRPC
 * ext_authz on the fixtures' policies, with a test key's JWKS inline) and the console on the
 * telemetry listener, started by startServer on free 127.0.0.1 ports; and the helpers a browser test
 * needs (sign in, send decisions through the filter).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parseConfig, type Config } from '../../../src/config/load.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { silentLogger } from '../../../src/telemetry/logger.js';
import { ExtAuthzClient, type EnvoyRequest } from '../../authz/helpers/grpc-client.js';
import { jwksOf, mint, testKey, type TestKey } from '../../authz/helpers/tokens.js';
import { freePort } from '../../helpers/free-port.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
/** bcrypt of "password". */
const HASH = '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W';
export const PASSWORD = 'password';
export const USERS = {
  admin: { email: 'ops-admin@example.com', userID: 'u-admin', groups: ['ops-admins'] },
  viewer: { email: 'ops-viewer@example.com', userID: 'u-viewer', groups: ['ops-viewers'] },
  outsider: { email: 'dev@example.com', userID: 'u-dev', groups: ['developers'] },
} as const;
export const CONSOLE_SECRET = 'console-secret-0123456789';
export const FRONTEND = 'spiffe://cluster.local/ns/web/sa/frontend';
/** The frontend's peer principal as the filter reports it (Istio's form, without spiffe://). */
export const FRONTEND_PRINCIPAL = 'cluster.local/ns/web/sa/frontend';
export const TOKEN_ISSUER = 'https://tokens.example';

export type Mesh = 'strict' | 'permissive';

/** The fixtures' policy files for a mesh mode, in `dir`, with the test key's JWKS written in. */
export async function writePolicies(dir: string, mesh: Mesh, key: TestKey): Promise<string> {
  const policies = join(dir, 'policies');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(policies, { recursive: true });
  const jwks = JSON.stringify(jwksOf(key));
  for (const [from, to] of [['shop.yaml', 'shop.yaml'], ['legacy.yaml', 'legacy.yaml'], ['tokens.yaml', 'tokens.yaml'], [`${mesh}/mesh.yaml`, 'mesh.yaml']] as const) {
    await writeFile(join(policies, to), (await readFile(join(FIXTURES, from), 'utf8')).replace('${JWKS}', jwks));
  }
  return policies;
}

export function operatorsYaml(): string {
  return `enablePasswordDB: true
staticPasswords:
${Object.values(USERS).map((u) => `  - { email: ${u.email}, hash: "${HASH}", username: ${u.email.split('@')[0]}, userID: ${u.userID}, groups: [${u.groups.join(', ')}] }`).join('\n')}
`;
}

export interface ConsoleServer {
  running: RunningServer;
  config: Config;
  /** http://127.0.0.1:<telemetry>/console */
  console: string;
  issuer: string;
  grpc: string;
  dir: string;
  key: TestKey;
  auditFile: string;
  close(): Promise<void>;
}

export interface ConsoleServerOptions {
  mesh: Mesh;
  /** The storage section (default memory). */
  storage?: (dir: string) => string;
  /** No filter in this process (the separate-process test). */
  filter?: boolean;
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-console-'));
  const key = await testKey('console-test');
  const policies = await writePolicies(dir, options.mesh, key);
  const [web, telemetry, grpc] = [await freePort(), await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${web}/dex`;
  const auditFile = join(dir, 'audit.log');
  const yaml = `issuer: ${issuer}
${options.storage ? options.storage(dir) : 'storage: { type: memory }'}
web: { http: "127.0.0.1:${web}" }
telemetry: { http: "127.0.0.1:${telemetry}" }
oauth2: { skipApprovalScreen: true }
logger: { level: warn }
audit: { stdout: false, file: ${auditFile} }
${operatorsYaml()}${options.filter === false ? '' : `filter:
  grpc: "127.0.0.1:${grpc}"
  policies: [${policies}]
  audit: { enabled: false }
  watch: false
`}console:
  publicURL: http://127.0.0.1:${telemetry}
  clientSecret: ${CONSOLE_SECRET}
  adminGroups: [ops-admins]
  readOnlyGroups: [ops-viewers]
  policies: [${policies}]
  inventory: [${join(FIXTURES, 'inventory.yaml')}]
`;
  const config = parseConfig(yaml, join(dir, 'idgate.yaml'), {});
  const running = await startServer(config, { logger: silentLogger() });
  return {
    running, config, issuer, dir, key, auditFile,
    console: `http://127.0.0.1:${telemetry}/console`,
    grpc: `127.0.0.1:${grpc}`,
    async close() {
      await running.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A token of the test issuer for `sub`, with the orders scope the shop policy asks for. */
export function customerToken(key: TestKey, sub: string): Promise<string> {
  return mint(key, { iss: TOKEN_ISSUER, sub, scope: 'orders' });
}

/** Sends each request as an Envoy gRPC ext_authz Check to the filter; returns the HTTP statuses. */
export async function sendChecks(address: string, requests: EnvoyRequest[]): Promise<number[]> {
  const client = new ExtAuthzClient(address);
  try {
    const statuses: number[] = [];
    for (const request of requests) {
      const response = await client.check({ namespace: 'shop', labels: 'app=orders', host: 'orders.shop', ...request });
      statuses.push(response.status?.code === 0 || response.status?.code === undefined ? 200 : (response.denied_response?.status?.code ?? 403));
    }
    return statuses;
  } finally {
    client.close();
  }
}

/** Opens a console page signed out and signs in at the issuer's password form; lands back on `path`. */
export async function signIn(page: Page, consoleUrl: string, user: { email: string }, path = '/'): Promise<void> {
  await page.goto(`${consoleUrl}${path}`);
  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const wanted = new URL(`${consoleUrl}${path}`);
  await page.waitForURL((url) => url.pathname === wanted.pathname && url.search === wanted.search);
  await page.waitForLoadState('load');
}
