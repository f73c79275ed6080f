/**
 * bench:filter — gRPC ext_authz Check with a JWT and a 50-rule policy, against a no-op grpc-js Check
 * server on the same protos, in the same run: throughput ratio (closed loop, target >= 0.9) and latency
 * percentiles at a fixed 2,000 rps (open loop, target p99 < 1 ms). The load generator is a child process,
 * so the server's CPU time per request (process.cpuUsage) is measured alone: on a shared machine that
 * figure is steadier than wall-clock throughput, and both are printed. A third server, "replay", answers
 * each request with the response the filter gave it (captured first) and does nothing else: the filter
 * against it shows the cost of the filter's work alone, apart from what its richer responses cost the
 * client and the transport. The load generator's own CPU per request is printed too.
 *
 * BENCH_TOKENS=new: every request carries a token the filter has not seen (a pool of 12,000 tokens
 * used in turn, against a token cache of 1,000 whose doorkeeper has forgotten a token long before it
 * comes back): each decision verifies a signature, and none is cached. The floor is then the no-op's CPU plus one raw node:crypto
 * RS256 verification (measured in this process between rounds), and a fourth server, "verify", is the
 * no-op that also verifies each request's bearer token with raw node:crypto: the same verification
 * interleaved with the same transport, the floor as a server pays it. BENCH_MATCH=last: every allowed
 * request matches the policy's last item rule (rule 49 of 50) instead of one spread over them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadAuthorizationProto, protoRoot } from '../../src/authz/transport/proto.js';
import { loadavg } from 'node:os';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { MemoryAuditSink, benchKeys, benchRequests, fmt, percentile, startBenchFilter } from './setup.js';

const RULES = Number(process.env.BENCH_RULES ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const NEW_TOKENS = process.env.BENCH_TOKENS === 'new';
const MATCH = process.env.BENCH_MATCH === 'last' ? 'last' : 'spread';
const TOKEN_POOL = NEW_TOKENS ? 12_000 : 100;
/**
 * With new tokens, a cache of 1,000: the pool is 12 times that, and 6 times its doorkeeper's 2,048
 * fingerprints (a token is admitted on its second verification, token-cache.ts), so a token comes back
 * only after its entry and its fingerprint are long gone: every decision is a first sighting.
 */
const TOKEN_CACHE = NEW_TOKENS ? { tokenCache: { maxEntries: 1_000 } } : {};

interface CheckCall { request: { attributes?: { request?: { http?: { path?: string; headers?: Record<string, string> } } } } }

/** One raw node:crypto RS256 verification of a compact JWS; throws if it does not verify. */
function rawVerify(token: string, key: KeyObject): void {
  const dot = token.lastIndexOf('.');
  if (!verify('sha256', Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('bad signature');
}

/**
 * The no-op (empty allow); given `responses` by request path, the replay of the filter's answers; given
 * `verifyKey`, the no-op that first verifies the request's bearer token with it.
 */
async function startNoopServer(options: { responses?: Map<string, unknown>; verifyKey?: KeyObject } = {}): Promise<{ port: number; close(): void }> {
  const server = new Server({ 'grpc.enable_channelz': 0 }); // same server options as the filter's
  const empty = { status: { code: 0 }, ok_response: {} };
  const { responses, verifyKey } = options;
  server.addService(loadAuthorizationProto().service, {
    Check: (call: CheckCall, callback: (error: null, response: unknown) => void) => {
      if (verifyKey) rawVerify(call.request.attributes!.request!.http!.headers!.authorization!.slice('Bearer '.length), verifyKey);
      callback(null, responses?.get(call.request.attributes?.request?.http?.path ?? '') ?? empty);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, close: () => server.forceShutdown() };
}

interface ClosedResult { done: number; errors: number; denied: number; seconds: number; cpuUs: number; clientCpuUs: number }
interface OpenResult { latencies: number[]; errors: number; seconds: number }

function runTask<T>(child: ChildProcess, task: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as T));
    child.send(task);
  });
}

async function loadAgainst(port: number, requests: object[]) {
  const child = fork(fileURLToPath(new URL('./grpc-load-worker.mjs', import.meta.url)), [], { stdio: 'inherit' });
  const ready = new Promise((resolve) => child.once('message', resolve));
  child.send({ protoDir: protoRoot(), address: `127.0.0.1:${port}`, requests });
  await ready;
  await runTask<ClosedResult>(child, { kind: 'closed', concurrency: CONCURRENCY, seconds: 1 }); // warm-up
  return {
    closed: async () => {
      const before = process.cpuUsage();
      const result = await runTask<ClosedResult>(child, { kind: 'closed', concurrency: CONCURRENCY, seconds: SECONDS });
      const used = process.cpuUsage(before);
      return { ...result, cpuUs: used.user + used.system };
    },
    open: () => runTask<OpenResult>(child, { kind: 'open', rate: RATE, seconds: SECONDS }),
    capture: () => runTask<{ responses: unknown[] }>(child, { kind: 'capture' }),
    stop: () => child.kill(),
  };
}

const { jwks, sign, publicKey } = await benchKeys('RS256');
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 shared cores)`);
const tokens = await Promise.all(Array.from({ length: TOKEN_POOL }, (_, i) => sign(`user-${i}`)));
const requests = benchRequests(tokens, RULES, MATCH);

/** CPU µs of one raw RS256 verification by node:crypto (the key imported once), serially in this process. */
const rawKey = createPublicKey({ key: await exportJWK(publicKey), format: 'jwk' });
function rawVerifyUs(count = 2000): number {
  const before = process.cpuUsage();
  for (let n = 0; n < count; n++) rawVerify(tokens[n % tokens.length]!, rawKey);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const noop = await startNoopServer();
const audit = new MemoryAuditSink();
const filter = await startBenchFilter(RULES, jwks, { grpc: '127.0.0.1:0', ...TOKEN_CACHE }, audit);
const noopLoad = await loadAgainst(noop.port, requests);
const filterLoad = await loadAgainst(filter.grpcPort!, requests);
let replay: Awaited<ReturnType<typeof startNoopServer>> | undefined;
let replayLoad: Awaited<ReturnType<typeof loadAgainst>> | undefined;
let verifying: Awaited<ReturnType<typeof startNoopServer>> | undefined;
let verifyLoad: Awaited<ReturnType<typeof loadAgainst>> | undefined;
if (NEW_TOKENS) {
  verifying = await startNoopServer({ verifyKey: rawKey });
  verifyLoad = await loadAgainst(verifying.port, requests);
} else {
  // The replay server needs the filter's answer to each request; with a pool of new tokens it is not run.
  const captured = (await filterLoad.capture()).responses;
  const pathOf = (request: object) => (request as CheckCall['request']).attributes!.request!.http!.path!;
  replay = await startNoopServer({ responses: new Map(requests.map((request, i) => [pathOf(request), captured[i]])) });
  replayLoad = await loadAgainst(replay.port, requests);
}

const tokenNote = NEW_TOKENS ? `${TOKEN_POOL} tokens, each new to the filter's cache` : `${TOKEN_POOL} users, cached after first use`;
console.log(`gRPC ext_authz Check: JWT (RS256, ${tokenNote}) + ${RULES}-rule policy (allowed requests: ${MATCH === 'last' ? 'the last item rule' : 'spread over the item rules'}), audit on, vs no-op grpc-js server`);
console.log(`closed loop: ${CONCURRENCY} in flight, ${SECONDS}s per run, ${ROUNDS} rounds interleaved\n`);
const rps = { noop: [] as number[], replay: [] as number[], verify: [] as number[], filter: [] as number[] };
const cpu = { noop: [] as number[], replay: [] as number[], verify: [] as number[], filter: [] as number[] };
const verifyUs: number[] = [];
const loads = [
  ['noop', noopLoad], ...(replayLoad ? [['replay', replayLoad] as const] : []), ...(verifyLoad ? [['verify', verifyLoad] as const] : []), ['filter', filterLoad],
] as const;
for (let round = 0; round < ROUNDS; round++) {
  if (NEW_TOKENS) {
    verifyUs.push(rawVerifyUs());
    console.log(`  round ${round + 1} raw node:crypto RS256 verify ${fmt(verifyUs.at(-1)!, 1)} µs CPU`);
  }
  for (const [name, load] of loads) {
    const r = await load.closed();
    rps[name].push(r.done / r.seconds);
    cpu[name].push(r.cpuUs / r.done);
    console.log(`  round ${round + 1} ${name.padEnd(6)} ${fmt(r.done / r.seconds).padStart(8)} rps  ${fmt(r.cpuUs / r.done, 1).padStart(6)} µs server CPU/request  ${fmt(r.clientCpuUs / r.done, 1).padStart(6)} µs client CPU/request  (errors ${r.errors}, denied ${r.denied})`);
  }
}
const best = (list: number[]) => Math.max(...list);
const least = (list: number[]) => Math.min(...list);
console.log(`\nthroughput ratio filter/noop, wall clock (best of ${ROUNDS}): ${fmt(best(rps.filter) / best(rps.noop), 3)}  (target >= 0.9)`);
/** The median over rounds of baseline/filter within each round: a drift of the machine between rounds cancels out. */
const pairedMedian = (baseline: number[]) => {
  const ratios = baseline.map((value, round) => value / cpu.filter[round]!).sort((a, b) => a - b);
  const middle = Math.floor(ratios.length / 2);
  return ratios.length % 2 === 1 ? ratios[middle]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
};
console.log(`throughput ratio filter/noop, server CPU per request (least of ${ROUNDS}): ${fmt(least(cpu.noop) / least(cpu.filter), 3)}  (${fmt(least(cpu.noop), 1)} vs ${fmt(least(cpu.filter), 1)} µs); median of the rounds' own ratios: ${fmt(pairedMedian(cpu.noop), 3)}`);
if (NEW_TOKENS) {
  const floor = least(cpu.noop) + least(verifyUs);
  console.log(`floor / filter, server CPU per request: (no-op ${fmt(least(cpu.noop), 1)} + raw verify ${fmt(least(verifyUs), 1)} µs) / ${fmt(least(cpu.filter), 1)} µs = ${fmt(floor / least(cpu.filter), 3)}  (target >= 0.85)`);
  console.log(`verify server / filter, server CPU per request (the no-op verifying each token itself, least of ${ROUNDS}): ${fmt(least(cpu.verify) / least(cpu.filter), 3)}  (${fmt(least(cpu.verify), 1)} vs ${fmt(least(cpu.filter), 1)} µs; verification in the server costs ${fmt(least(cpu.verify) - least(cpu.noop), 1)} µs over the no-op); median of the rounds' own ratios: ${fmt(pairedMedian(cpu.verify), 3)}\n`);
} else {
  console.log(`throughput ratio filter/replay (same responses, no work), wall clock (best of ${ROUNDS}): ${fmt(best(rps.filter) / best(rps.replay), 3)}`);
  console.log(`throughput ratio replay/noop (what the filter's responses alone cost), wall clock: ${fmt(best(rps.replay) / best(rps.noop), 3)}\n`);
}

console.log(`open loop at ${RATE} rps for ${SECONDS}s, client-observed latency (ms):`);
console.log('           p50     p90     p99     p99.9   max');
for (const [name, load] of [['noop', noopLoad], ['filter', filterLoad]] as const) {
  audit.recording = name === 'filter';
  const r = await load.open();
  audit.recording = false;
  const sorted = r.latencies.sort((a, b) => a - b);
  const cols = [50, 90, 99, 99.9].map((p) => fmt(percentile(sorted, p), 3).padStart(7));
  console.log(`  ${name.padEnd(7)}${cols.join(' ')} ${fmt(sorted[sorted.length - 1] ?? NaN, 3).padStart(7)}   (${fmt(sorted.length / r.seconds)} rps achieved, errors ${r.errors})`);
}
const serverSide = audit.lines.map((line) => (JSON.parse(line) as { latencyUs: number }).latencyUs / 1000).sort((a, b) => a - b);
console.log(`  filter, server side (decode to response, from its audit lines):`);
console.log(`         ${[50, 90, 99, 99.9].map((p) => fmt(percentile(serverSide, p), 3).padStart(7)).join(' ')} ${fmt(serverSide[serverSide.length - 1] ?? NaN, 3).padStart(7)}   (${fmt(serverSide.length)} decisions)`);
noopLoad.stop();
replayLoad?.stop();
verifyLoad?.stop();
filterLoad.stop();
noop.close();
replay?.close();
verifying?.close();
await filter.close();
