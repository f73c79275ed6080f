// bench:token-peer — the refresh_token grant, RS256, idgate against oidc-provider 9 (the certified Node
// OP) on the same machine in the same run. Every server is its own process: idgate as `idgate serve`
// (memory storage, as oidc-provider's default adapter keeps its state in memory; and SQLite, idgate's
// embedded default), oidc-provider as bench/peer/oidc-provider.ts (one signature per grant: the ID
// token, the access token opaque; and with `--jwt`, JWT access tokens, two signatures as idgate).
// 16 sessions per server are logged in through each one's own pages, then rounds alternate between the
// servers (A B C A B C ...), each round sending GRANTS refresh grants (16 chains, rotation on every use);
// each server's CPU per grant is read from /proc/<pid>/stat, so however busy the load generator (this
// process) is, what is compared is what the server spent. Between rounds, the floor: one RS256
// signature by node:crypto (src/keys/jws.ts) and by jose, serially in this process, the same 2048-bit
// key size, CPU from process.cpuUsage. `npm run bench:token-peer [-- --rounds N --grants N]`;
// BENCH_PROFILE_DIR=<dir> writes a CPU profile of each idgate process there (node --cpu-prof).
// Every process runs on the Node that runs this script: for the container image's Node 24,
// `<node24> --import tsx bench/token-peer.ts` (the SQLite row then needs better-sqlite3 built for it).
import { readFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { importJWK, SignJWT, type JWK } from 'jose';
import * as client from 'openid-client';
import { generateSigningKey } from '../src/keys/generate.js';
import { compactSigner } from '../src/keys/jws.js';
import { browseUpstream } from '../test/connectors/oidc/upstream-idp.js';
import { followLogin } from '../test/helpers/http-login.js';
import { ADMIN, DEFAULT_TEST_CONFIG, EXAMPLE_APP } from '../test/helpers/issuer.js';
import { freePort, startReplica, tempDir, type Replica } from '../test/replicas/cluster.js';
import { numberFlag } from './flags.js';

const ROUNDS = numberFlag('rounds', 4);
const GRANTS = numberFlag('grants', 1500);
const SESSIONS = 16;
const SIGNS = 300;
const SCOPE = 'openid email offline_access';

/** CPU seconds a process has used (user + system, every thread), from /proc: clock ticks of 1/100 s. */
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Target {
  name: string;
  pid: number;
  tokenEndpoint: string;
  authorization: string;
  /** Each session's current refresh token (one chain per worker). */
  chains: string[];
  /** JWTs in one grant's response (signatures the server made). */
  signatures: number;
  cpu: number[];
  rate: number[];
  close(): Promise<void>;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function refresh(target: Target, worker: number): Promise<Record<string, string>> {
  const response = await fetch(target.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: target.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: target.chains[worker]! }),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200 || !body.refresh_token) throw new Error(`${target.name}: refresh answered ${response.status} ${JSON.stringify(body)}`);
  target.chains[worker] = body.refresh_token;
  return body;
}

/** GRANTS refresh grants from SESSIONS workers; the server's CPU per grant and the wall-clock rate. */
async function round(target: Target, count = GRANTS): Promise<{ cpuPerGrant: number; perSecond: number }> {
  const cpuBefore = processCpu(target.pid);
  const started = performance.now();
  let next = 0;
  await Promise.all(target.chains.map(async (_, worker) => {
    while (next++ < count) await refresh(target, worker);
  }));
  const seconds = (performance.now() - started) / 1000;
  return { cpuPerGrant: (processCpu(target.pid) - cpuBefore) / count, perSecond: count / seconds };
}

const jwtCount = (body: Record<string, string>) => Object.values(body).filter((value) => typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value)).length;

async function startIdgate(name: string, storage: string, dir: string): Promise<Target> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/dex`;
  const body = DEFAULT_TEST_CONFIG.replace('storage:\n  type: memory\n', storage).replace('web:\n  http: 127.0.0.1:0\n', `web:\n  http: 127.0.0.1:${port}\n`);
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const replica: Replica = await startReplica({ name, issuer, body: `${body}logger:\n  level: warn\n`, dir, web: false, nodeArgs: profile });
  const config = await client.discovery(new URL(issuer), EXAMPLE_APP.id, undefined, client.ClientSecretBasic(EXAMPLE_APP.secret), { execute: [client.allowInsecureRequests] });
  const chains = [];
  for (let i = 0; i < SESSIONS; i++) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: SCOPE, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', connector_id: 'local',
    });
    const callback = await followLogin(url.href, { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
    chains.push((await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })).refresh_token!);
  }
  return {
    name, pid: replica.child.pid!, tokenEndpoint: `${issuer}/token`, authorization: basic(EXAMPLE_APP.id, EXAMPLE_APP.secret), chains, signatures: 0, cpu: [], rate: [],
    close: () => replica.stop(),
  };
}

/** A script of bench/peer/ in its own process (tsx), with the first message it sends once it listens. */
async function startPeer<T>(name: string, script: string, argv: string[] = []): Promise<{ pid: number; message: T; close(): Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(new URL(`./peer/${script}`, import.meta.url)), argv, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  // oidc-provider's start-up notices (development adapter, default TTLs, Node 20 "unsupported runtime") are dropped.
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk.toString().split('\n').filter((line) => line && !line.startsWith('oidc-provider ')).map((line) => `${name}: ${line}\n`).join('')));
  const message = await new Promise<T>((resolve, reject) => {
    child.once('message', (sent) => resolve(sent as T));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { pid: child.pid!, message, close: async () => { child.disconnect(); await exited; } };
}

async function startOidcProvider(name: string, argv: string[]): Promise<Target> {
  const { pid, message: peer, close } = await startPeer<{ issuer: string; clientId: string; clientSecret: string }>(name, 'oidc-provider.ts', argv);
  const config = await client.discovery(new URL(peer.issuer), peer.clientId, undefined, client.ClientSecretBasic(peer.clientSecret), { execute: [client.allowInsecureRequests] });
  const chains = [];
  for (let i = 0; i < SESSIONS; i++) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    // oidc-provider grants offline_access only with prompt=consent (OpenID Connect Core 11).
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: EXAMPLE_APP.redirectURI, scope: SCOPE, prompt: 'consent', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await browseUpstream(url.href, EXAMPLE_APP.redirectURI);
    chains.push((await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })).refresh_token!);
  }
  return { name, pid, tokenEndpoint: config.serverMetadata().token_endpoint!, authorization: basic(peer.clientId, peer.clientSecret), chains, signatures: 0, cpu: [], rate: [], close };
}

/** node:http answering every POST with a token-sized JSON body: what the transport alone costs. */
async function startHttpFloor(): Promise<Target> {
  const { pid, message, close } = await startPeer<{ url: string }>('HTTP floor', 'http-floor.ts');
  return { name: 'HTTP floor (node:http)', pid, tokenEndpoint: message.url, authorization: 'Basic eDp5', chains: Array.from({ length: SESSIONS }, () => 'r'), signatures: 0, cpu: [], rate: [], close };
}

/** CPU seconds per call of `run`, serially in this process. */
async function cpuPerCall(count: number, run: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6 / count;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const us = (seconds: number) => (seconds * 1e6).toFixed(0);

console.log(`bench:token-peer — node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`refresh_token grant, RS256 (2048-bit), ${SESSIONS} concurrent chains, rotation on every use; ${ROUNDS} rounds of ${GRANTS} grants per server, alternating\n`);
const dir = await tempDir();
const targets: Target[] = [];
try {
  targets.push(await startIdgate('idgate (memory)', 'storage:\n  type: memory\n', dir.dir));
  targets.push(await startOidcProvider('oidc-provider', []));
  try {
    targets.push(await startIdgate('idgate (SQLite)', `storage:\n  type: sqlite3\n  config:\n    file: ${dir.dir}/idgate.db\n`, dir.dir));
  } catch (error) {
    // better-sqlite3 is built for the Node that installed it: under another (a Node 24 run) it cannot load.
    console.log(`idgate (SQLite) not measured: ${(error as Error).message.split('\n').find((line) => /NODE_MODULE_VERSION|Error/.test(line)) ?? 'it did not start'}\n`);
  }
  targets.push(await startOidcProvider('oidc-provider --jwt', ['--jwt']));
  targets.push(await startHttpFloor());
  for (const target of targets) {
    target.signatures = jwtCount(await refresh(target, 0));
    await round(target, 300); // warm-up: JIT, caches, connections
  }
  const { privateJwk } = await generateSigningKey('RS256');
  const signer = compactSigner(privateJwk);
  const joseKey = await importJWK(privateJwk as JWK, 'RS256');
  const payload = { iss: 'http://127.0.0.1:5556/dex', sub: 'CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs', aud: 'example-app', exp: 2e9, iat: 1.9e9, scope: SCOPE, email: ADMIN.email };
  const floor = { node: [] as number[], jose: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const target of targets) {
      const result = await round(target);
      target.cpu.push(result.cpuPerGrant);
      target.rate.push(result.perSecond);
      console.log(`  round ${r + 1}  ${target.name.padEnd(20)} ${us(result.cpuPerGrant).padStart(6)} µs server CPU/grant  ${result.perSecond.toFixed(0).padStart(5)} grants/s wall clock`);
    }
    floor.node.push(await cpuPerCall(SIGNS, () => signer.sign(payload, 'at+jwt')));
    floor.jose.push(await cpuPerCall(SIGNS, () => new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(joseKey)));
    console.log(`  round ${r + 1}  floor: one RS256 signature, node:crypto ${us(floor.node.at(-1)!)} µs, jose ${us(floor.jose.at(-1)!)} µs CPU`);
  }
  const sign = median(floor.node);
  const [idgate, peer] = [targets[0]!, targets[1]!];
  const http = median(targets.at(-1)!.cpu);
  console.log(`\n| server | JWTs signed per grant | CPU per grant (median of ${ROUNDS}) | grants per CPU-second | vs oidc-provider | / its signatures (node:crypto) | / HTTP floor + its signatures |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const target of targets.slice(0, -1)) {
    const cpu = median(target.cpu);
    const floorOf = (base: number) => `${(cpu / (base + target.signatures * sign)).toFixed(2)}x`;
    console.log(`| ${target.name} | ${target.signatures} | ${us(cpu)} µs | ${(1 / cpu).toFixed(0)} | ${(median(peer.cpu) / cpu).toFixed(2)} | ${floorOf(0)} | ${floorOf(http)} |`);
  }
  console.log(`| HTTP floor (node:http, no work) | 0 | ${us(http)} µs | ${(1 / http).toFixed(0)} | | | |`);
  console.log(`| one RS256 signature, serial | | node:crypto ${us(sign)} µs, jose ${us(median(floor.jose))} µs | | | | |`);
  console.log(`\nidgate (memory) grants per CPU-second / oidc-provider's: ${(median(peer.cpu) / median(idgate.cpu)).toFixed(2)} (goal >= 1.0)`);
  console.log(`idgate (memory) CPU per grant / two node:crypto signatures: ${(median(idgate.cpu) / (2 * sign)).toFixed(2)}x (goal <= 1.5x); / (HTTP floor + two signatures): ${(median(idgate.cpu) / (http + 2 * sign)).toFixed(2)}x`);
} finally {
  await Promise.all(targets.map((target) => target.close()));
  await dir.remove();
}
