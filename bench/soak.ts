/**
 * bench:soak — the gRPC ext_authz filter's memory under a steady load. The filter (bench:filter's:
 * 50 rules, audit lines to /dev/null, metrics on) runs in a child process of its own, so its RSS is
 * the filter's alone; a second child sends Check at a fixed open-loop rate (1,000 rps by default) with
 * a mix of tokens: repeating valid tokens of 1,000 users (65 %), never-seen valid tokens signed on the
 * fly (10 %: the token cache churns), valid tokens on a path no rule allows (10 %), and invalid tokens
 * (15 %: a new bad signature each time, expired, garbage). Every 10 s it prints the filter's memory and
 * what the load generator sent and got back; an answer with another status than its class expects
 * (allow, 403, 401) counts as an error, as does a gRPC error. The run ends with the memory's range,
 * whether RSS stayed flat, and a non-zero exit code if there was any error. The filter runs with the
 * heap flags idgate's image starts it with (the Dockerfile's NODE_OPTIONS), or BENCH_SOAK_FILTER_FLAGS
 * ("" for V8's own sizing).
 *
 * npm run bench:soak                      10 minutes (BENCH_SOAK_SECONDS)
 * npm run bench:soak -- --minutes 2       or --seconds 90; --rate 2000 (BENCH_SOAK_RATE)
 * BENCH_SOAK_FILTER_FLAGS="" npm run bench:soak     node flags for the filter process instead of the image's
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { protoRoot } from '../src/authz/transport/proto.js';
import { ISSUER, benchCheckRequest, fmt } from './filter/setup.js';

const RULES = 50;
const USERS = 1000;
const SAMPLE_SECONDS = 10;
/**
 * RSS counts as flat when the second half's peak stays within this much of the second quarter's: by
 * then the token cache is full (10,000 entries; 100 new tokens a second at 1,000 rps).
 */
const FLAT_TOLERANCE = 0.1;

const { values: flags } = parseArgs({ options: { minutes: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' } } });
const SECONDS = flags.seconds !== undefined ? Number(flags.seconds)
  : flags.minutes !== undefined ? Number(flags.minutes) * 60
    : Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const RATE = Number(flags.rate ?? process.env.BENCH_SOAK_RATE ?? 1000);

/** The NODE_OPTIONS the image runs idgate with (the Dockerfile's `ENV NODE_OPTIONS="..."`). */
function imageNodeOptions(): string {
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
  return /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile)?.[1] ?? '';
}
const FILTER_FLAGS = (process.env.BENCH_SOAK_FILTER_FLAGS ?? imageNodeOptions()).split(' ').filter(Boolean);

/** The filter process's memoryUsage(), its young generation's size, and its CPU time so far. */
interface Memory { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; newSpace: number; cpuUs: number }
interface Counts { sent: number; answered: number; grpcErrors: number; unexpected: number }
interface LoadReport { interval: Counts; total: Counts; inFlight: number; examples: string[] }
interface Sample { elapsed: number; memory: Memory }

/** Sends `task` and resolves with the child's next message. */
function ask<T>(child: ChildProcess, task: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as T));
    child.send(task);
  });
}

function worker(file: string, execArgv: string[]): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [], { stdio: 'inherit', execArgv });
}

const mb = (bytes: number) => fmt(bytes / 2 ** 20, 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = 'RS256-1';
const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' }] });

const filterProcess = worker('./filter/soak-filter-worker.ts', [...process.execArgv, ...FILTER_FLAGS]);
const { port, heapLimit } = await ask<{ port: number; heapLimit: number }>(filterProcess, { jwks, rules: RULES });
const memory = () => ask<Memory>(filterProcess, { kind: 'memory' });

const itemRules = Math.ceil(RULES / 4); // every 4th rule allows GET /svc<n>/items/{*} (setup.ts policyYaml)
const loadProcess = worker('./filter/soak-load-worker.mjs', []);
const { classes } = await ask<{ classes: string[] }>(loadProcess, {
  protoDir: protoRoot(), address: `127.0.0.1:${port}`, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
  kid, issuer: ISSUER, rate: RATE, users: USERS, template: benchCheckRequest('', '/'),
  allowedPaths: Array.from({ length: itemRules * 8 }, (_, i) => `/svc${(i % itemRules) * 4}/items/${i}?page=2`),
  deniedPath: '/svc1/nothing',
});

console.log(`bench:soak: gRPC ext_authz filter (${RULES} rules, audit to /dev/null, metrics on) in its own process, node ${FILTER_FLAGS.length ? FILTER_FLAGS.join(' ') : "with V8's own heap sizing"}`);
console.log(`open loop at ${fmt(RATE)} rps for ${fmt(SECONDS)} s; mix per 20 requests: 13 pool (${USERS} users), 2 new tokens, 2 denied by policy, 1 bad signature, 1 expired, 1 garbage (${classes.join(', ')})`);
console.log(`Node ${process.version}, the filter's V8 heap limit ${mb(heapLimit)} MB, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}; memory in MB\n`);
console.log('elapsed     rss  heapUsed heapTotal  external arrayBuf  young    sent answered errors     rps  cpu µs/req');

/** One line of the table; with the load generator's report, also what was sent and answered since `previous`. */
function row(label: string, m: Memory, report?: LoadReport, previous?: { memory: Memory; at: number }, at?: number): string {
  const mem = [m.rss, m.heapUsed, m.heapTotal, m.external, m.arrayBuffers, m.newSpace].map((b, i) => mb(b).padStart(i === 0 ? 7 : i === 5 ? 6 : 9)).join(' ');
  if (!report || !previous) return `${label.padStart(7)} ${mem}`;
  const c = report.interval;
  const seconds = (at! - previous.at) / 1000;
  const cpuPerRequest = c.answered > 0 ? fmt((m.cpuUs - previous.memory.cpuUs) / c.answered) : '-';
  const load = [fmt(c.sent).padStart(7), fmt(c.answered).padStart(8), fmt(c.grpcErrors + c.unexpected).padStart(6), fmt(c.answered / seconds).padStart(7), cpuPerRequest.padStart(11)].join(' ');
  return `${label.padStart(7)} ${mem} ${load}`;
}

const samples: Sample[] = [{ elapsed: 0, memory: await memory() }];
console.log(row('0 s', samples[0]!.memory));
await ask<LoadReport>(loadProcess, { kind: 'stats' });
loadProcess.send({ kind: 'start' });
const startedAt = performance.now();
let previous = { memory: samples[0]!.memory, at: startedAt };
for (let elapsed = SAMPLE_SECONDS; elapsed <= SECONDS; elapsed += SAMPLE_SECONDS) {
  await sleep(startedAt + elapsed * 1000 - performance.now());
  const [report, m] = await Promise.all([ask<LoadReport>(loadProcess, { kind: 'stats' }), memory()]);
  const at = performance.now();
  samples.push({ elapsed, memory: m });
  console.log(row(`${elapsed} s`, m, report, previous, at));
  previous = { memory: m, at };
}
const final = await ask<LoadReport>(loadProcess, { kind: 'stop' });
await sleep(SAMPLE_SECONDS * 1000);
const after = await memory();
console.log(row(`+${SAMPLE_SECONDS} s idle`, after));

const underLoad = samples.slice(1);
const range = (field: keyof Memory) => {
  const values = underLoad.map((s) => s.memory[field]);
  return `min ${mb(Math.min(...values))}  max ${mb(Math.max(...values))}  first ${mb(values[0]!)}  last ${mb(values[values.length - 1]!)}`;
};
const peak = (from: number, to: number) => Math.max(...underLoad.filter((s) => s.elapsed > from && s.elapsed <= to).map((s) => s.memory.rss));
const judged = SECONDS >= 4 * SAMPLE_SECONDS; // a sample in each quarter
const secondQuarter = peak(SECONDS / 4, SECONDS / 2);
const secondHalf = peak(SECONDS / 2, SECONDS);
const flat = secondHalf <= secondQuarter * (1 + FLAT_TOLERANCE);
const { total } = final;
const errors = total.grpcErrors + total.unexpected;

console.log(`\nrss       ${range('rss')}  (after the load: ${mb(after.rss)})`);
console.log(`heapUsed  ${range('heapUsed')}`);
console.log(`heapTotal ${range('heapTotal')}`);
if (judged) console.log(`RSS ${flat ? 'flat' : 'NOT flat'}: second half's peak ${mb(secondHalf)} MB against the second quarter's ${mb(secondQuarter)} MB (tolerance ${FLAT_TOLERANCE * 100} %)`);
else console.log(`RSS flat: not judged (a run of at least ${4 * SAMPLE_SECONDS} s is)`);
console.log(`requests: ${fmt(total.sent)} sent, ${fmt(total.answered)} answered (${fmt(total.answered / SECONDS)} rps), ${fmt(final.inFlight)} unanswered at the end`);
console.log(`filter CPU: ${fmt((previous.memory.cpuUs - samples[0]!.memory.cpuUs) / total.answered, 1)} µs per answered request`);
console.log(`errors: ${fmt(errors)} (${fmt(total.grpcErrors)} gRPC errors, ${fmt(total.unexpected)} unexpected statuses)`);
for (const example of final.examples) console.log(`  ${example}`);
loadProcess.kill();
const exited = new Promise((resolve) => filterProcess.once('exit', resolve));
filterProcess.send({ kind: 'stop' });
await exited;
process.exitCode = errors > 0 || final.inFlight > 0 ? 1 : 0;
