/**
 * Real idgate replicas for the replica, fault and revocation tests: each one a child process
 * (`idgate serve --config <yaml>` through tsx) on 127.0.0.1 ports picked here, all on one
 * PostgreSQL schema, behind a tiny balancer whose URL is the issuer they all share, as a deployment
 * behind a load balancer would be. The test decides, per request, which replica the balancer uses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { DEFAULT_TEST_CONFIG, EXAMPLE_APP } from '../helpers/issuer.js';
import { freePort } from '../helpers/free-port.js';

export { freePort };

/** src/cli.ts exports `main` and runs nothing by itself (bin/idgate.js calls it), so call it the same way. */
const RUN_CLI = "const { main } = await import('./src/cli.ts'); process.exitCode = await main(process.argv.slice(1));";

export interface Replica {
  name: string;
  /** http://127.0.0.1:<port> of its web listener (if any). */
  origin: string;
  telemetry: string;
  /** http://127.0.0.1:<port> of its ext_authz HTTP listener (if any). */
  filter?: string;
  child: ChildProcess;
  output(): string;
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ReplicaOptions {
  name: string;
  /** The YAML sections after `issuer`, `web` and `telemetry` (storage, clients, filter ...). */
  body: string;
  issuer: string;
  web?: boolean;
  filterPort?: number;
  dir: string;
  /** Node options before the script (`--cpu-prof`, for a benchmark's profile). */
  nodeArgs?: string[];
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const webPort = await freePort();
  const telemetryPort = await freePort();
  const file = path.join(options.dir, `${options.name}.yaml`);
  const web = options.web === false ? '' : `web:\n  http: 127.0.0.1:${webPort}\n`;
  await writeFile(file, `issuer: ${options.issuer}\n${web}telemetry:\n  http: 127.0.0.1:${telemetryPort}\n${options.body}`);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', '--input-type=module', '-e', RUN_CLI, 'serve', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const replica: Replica = {
    name: options.name,
    origin: `http://127.0.0.1:${webPort}`,
    telemetry: `http://127.0.0.1:${telemetryPort}`,
    ...(options.filterPort ? { filter: `http://127.0.0.1:${options.filterPort}` } : {}),
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`replica ${options.name} exited with ${child.exitCode}:\n${output}`);
    if ((await fetch(`${replica.telemetry}/healthz/live`).catch(() => undefined))?.ok) return replica;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await replica.stop('SIGKILL');
  throw new Error(`replica ${options.name} did not start:\n${output}`);
}

/** The storage section for a PostgreSQL schema. */
export function postgresStorage(connectionString: string, schema: string): string {
  return `storage:\n  type: postgres\n  config:\n    connectionString: "${connectionString}"\n    schema: ${schema}\n`;
}

/**
 * The config body every issuer replica shares: the test issuer's clients, connectors and password DB
 * (DEFAULT_TEST_CONFIG), with the storage section given instead of memory and the web listener left to
 * startReplica.
 */
export function issuerBody(storage: string, extra = ''): string {
  const shared = DEFAULT_TEST_CONFIG.replace('storage:\n  type: memory\n', storage).replace('web:\n  http: 127.0.0.1:0\n', '');
  if (shared.includes('type: memory') || shared.includes('127.0.0.1:0')) throw new Error('DEFAULT_TEST_CONFIG changed shape; update issuerBody');
  return `${shared}logger:\n  level: warn\n${extra}`;
}

export interface Balancer {
  origin: string;
  /** Which replica origin serves a request; by default the first replica. */
  route: (req: http.IncomingMessage) => string;
  /** Every request as "<replica origin> <method> <path>", in order. */
  log: string[];
  close(): Promise<void>;
}

/** A reverse proxy that forwards each request to the origin `route` picks; 502 if that replica is gone. */
export async function startBalancer(initial: string): Promise<Balancer> {
  const balancer: Balancer = { origin: '', route: () => initial, log: [], close: async () => undefined };
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const target = new URL(balancer.route(req));
    balancer.log.push(`${target.origin} ${req.method} ${req.url}`);
    const upstream = http.request(
      { agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('replica unreachable');
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  balancer.origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  balancer.close = async () => {
    server.closeAllConnections();
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return balancer;
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'idgate-replicas-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * An openid-client relying party that discovers through the balancer (the shared issuer URL) and,
 * when `via` is given, sends every later request to that replica directly.
 */
export async function relyingParty(issuer: string, via?: Replica): Promise<client.Configuration> {
  const config = await client.discovery(new URL(issuer), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  if (via) {
    const balancerOrigin = new URL(issuer).origin;
    config[client.customFetch] = (url, options) => fetch(url.replace(balancerOrigin, via.origin), options as RequestInit);
  }
  return config;
}

/** Starts a login at `authURL` (PKCE, password connector) and returns what the code exchange needs. */
export async function authorizationRequest(config: client.Configuration, scope = 'openid email offline_access') {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: EXAMPLE_APP.redirectURI,
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    connector_id: 'local',
  });
  return { url, verifier, state };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
