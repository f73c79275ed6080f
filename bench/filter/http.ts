/**
 * bench:filter-http — the HTTP ext_authz mode (Envoy http_service convention) with a JWT and a 50-rule
 * policy, against a no-op node:http server answering 200, in the same run (target >= 0.85); and beside
 * it the same requests authenticated by a browser sign-in session cookie (filter.signIn) instead of the
 * bearer token, with the same claims, so the two decisions compare directly. The load generator is a
 * keep-alive node:http client in a child process; wall-clock throughput and the server's CPU time per
 * request are both printed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { CookieSealer } from '../../src/authz/signin/cookie-seal.js';
import { sessionScope } from '../../src/authz/signin/cookies.js';
import { parseFilterConfig } from '../../src/authz/config.js';
import { benchKeys, fmt, ISSUER, startBenchFilter } from './setup.js';

const RULES = Number(process.env.BENCH_RULES ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

interface ClosedResult { done: number; errors: number; denied: number; statuses: Record<string, number>; seconds: number }

async function startNoop(): Promise<{ port: number; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function runTask<T>(child: ChildProcess, task: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(task);
  });
}

async function loadAgainst(port: number, requests: object[]) {
  const child = fork(fileURLToPath(new URL('./http-load-worker.mjs', import.meta.url)), [], { stdio: 'inherit' });
  const ready = new Promise((resolve) => child.once('message', resolve));
  child.send({ port, requests });
  await ready;
  await runTask<ClosedResult>(child, { concurrency: CONCURRENCY, seconds: 1 });
  return {
    closed: async () => {
      const before = process.cpuUsage();
      const r = await runTask<ClosedResult>(child, { concurrency: CONCURRENCY, seconds: SECONDS });
      const used = process.cpuUsage(before);
      return { ...r, cpuUs: (used.user + used.system) / r.done };
    },
    stop: () => child.kill(),
  };
}

const { jwks, sign } = await benchKeys('RS256');
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 shared cores)`);
const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(`user-${i}`)));
const itemRules = Math.ceil(RULES / 4);
const requests = tokens.map((token, i) => ({
  method: 'GET',
  path: `/envoy${i % 10 === 9 ? `/svc${i % RULES}/nothing` : `/svc${(i % itemRules) * 4}/items/${i}?page=2`}`,
  headers: { host: 'shop.example.com', authorization: `Bearer ${token}`, 'user-agent': 'bench', accept: 'application/json', 'x-request-id': `r-${i}`, 'x-forwarded-proto': 'https' },
}));

// The same users as session cookies: the claims of their tokens, sealed as the callback seals them.
// The sign-in issuer is never contacted: a cookie-authenticated decision needs no issuer.
const COOKIE_SECRET = 'bench-cookie-secret-of-at-least-32-characters';
const signIn = { issuer: ISSUER, clientID: 'shop', clientSecret: 'bench', cookie: { secret: COOKIE_SECRET } };
const sealer = new CookieSealer(COOKIE_SECRET);
const scope = sessionScope(parseFilterConfig({ signIn }).signIn!.cookie, 'shop.example.com');
const issuedAt = Math.floor(Date.now() / 1000);
const cookieRequests = requests.map((request, i) => {
  const { authorization: _bearer, ...headers } = request.headers;
  const session = sealer.seal('session', scope, { iss: ISSUER, sub: `user-${i}`, aud: 'shop', groups: ['staff', 'users'], scope: 'read write', jti: `s-${i}`, iat: issuedAt, exp: issuedAt + 3600 });
  return { ...request, headers: { ...headers, cookie: `_idgate_session=${session}` } };
});

const noop = await startNoop();
const filter = await startBenchFilter(RULES, jwks, { http: '127.0.0.1:0', signIn });
const loads = {
  noop: await loadAgainst(noop.port, requests),
  filter: await loadAgainst(filter.httpPort!, requests),
  cookie: await loadAgainst(filter.httpPort!, cookieRequests),
};

console.log(`HTTP ext_authz (Envoy http_service mode): JWT (RS256, 100 users) + ${RULES}-rule policy, audit on, vs no-op node:http`);
console.log(`closed loop: ${CONCURRENCY} in flight, keep-alive, ${SECONDS}s per run, ${ROUNDS} rounds interleaved\n`);
const rps = { noop: [] as number[], filter: [] as number[], cookie: [] as number[] };
const cpu = { noop: [] as number[], filter: [] as number[], cookie: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  for (const name of ['noop', 'filter', 'cookie'] as const) {
    const r = await loads[name].closed();
    rps[name].push(r.done / r.seconds);
    cpu[name].push(r.cpuUs);
    console.log(`  round ${round + 1} ${name.padEnd(6)} ${fmt(r.done / r.seconds).padStart(8)} rps  ${fmt(r.cpuUs, 1).padStart(6)} µs server CPU/request  (errors ${r.errors}, statuses ${JSON.stringify(r.statuses)})`);
  }
}
const best = (l: number[]) => Math.max(...l);
const least = (l: number[]) => Math.min(...l);
console.log(`\nthroughput ratio filter/noop, wall clock (best of ${ROUNDS}): ${fmt(best(rps.filter) / best(rps.noop), 3)}  (target >= 0.85)`);
console.log(`throughput ratio filter/noop, server CPU per request (least of ${ROUNDS}): ${fmt(least(cpu.noop) / least(cpu.filter), 3)}  (${fmt(least(cpu.noop), 1)} vs ${fmt(least(cpu.filter), 1)} µs)`);
console.log(`session cookie vs bearer JWT (same claims, same policy), wall clock (best of ${ROUNDS}): ${fmt(best(rps.cookie) / best(rps.filter), 3)}; server CPU per request (least): ${fmt(least(cpu.cookie), 1)} vs ${fmt(least(cpu.filter), 1)} µs`);
loads.noop.stop();
loads.filter.stop();
loads.cookie.stop();
noop.close();
await filter.close();
