// Token endpoint throughput with two idgate processes against one, on one PostgreSQL schema (npm run
// bench:replicas). Two real replicas are started; in alternating rounds (the best of each kept) the
// same run sends refresh_token grants to one of them only, then alternates them between both
// (client-side, request by request, so every rotation crosses replicas), and prints the ratio with
// where the CPU went: each replica, this load generator, PostgreSQL and everything else on the
// machine. Each worker refreshes its own session (rotation on every use): real compare-and-swap
// traffic, not cache hits.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as client from 'openid-client';
import { followLogin } from '../test/helpers/http-login.js';
import { ADMIN, EXAMPLE_APP } from '../test/helpers/issuer.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../test/storage/postgres-helpers.js';
import { authorizationRequest, issuerBody, postgresStorage, relyingParty, startBalancer, startReplica, tempDir, type Replica } from '../test/replicas/cluster.js';

const WORKERS = 16;
const WARMUP = 300;
const REFRESHES = 1500;
const ROUNDS = 3;
const BASIC = `Basic ${Buffer.from(`${EXAMPLE_APP.id}:${EXAMPLE_APP.secret}`).toString('base64')}`;

/** Jiffies (1/100 s) of CPU: the whole machine (busy, total), or one process (user + system). */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + fields[4]!;
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}
/** Every PostgreSQL server process on this machine (the test server is local). */
function postgresCpu(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.includes('(postgres)')) total += processCpu(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function refresh(replica: Replica, token: string): Promise<string> {
  const response = await fetch(`${replica.origin}/dex/token`, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });
  const body = (await response.json()) as { refresh_token?: string; error?: string };
  if (response.status !== 200 || !body.refresh_token) throw new Error(`refresh failed on ${replica.name}: ${response.status} ${body.error}`);
  return body.refresh_token;
}

interface Phase {
  name: string;
  perSecond: number;
  cpu: Record<string, number>;
}

/** `count` refreshes by WORKERS concurrent sessions; `pick` chooses the replica of each request. */
async function phase(name: string, count: number, tokens: string[], replicas: Replica[], pick: (n: number) => Replica): Promise<Phase> {
  const pids = Object.fromEntries(replicas.map((replica) => [replica.name, replica.child.pid!]));
  const before = { machine: machineCpu(), postgres: postgresCpu(), self: process.cpuUsage(), replicas: Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, processCpu(pid)])) };
  let next = 0;
  const started = performance.now();
  await Promise.all(tokens.map(async (_, worker) => {
    for (let n = next++; n < count; n = next++) tokens[worker] = await refresh(pick(n), tokens[worker]!);
  }));
  const seconds = (performance.now() - started) / 1000;
  const machine = machineCpu();
  const self = process.cpuUsage(before.self);
  const cores = (jiffies: number) => jiffies / 100 / seconds;
  const cpu: Record<string, number> = {};
  for (const [replica, pid] of Object.entries(pids)) cpu[`idgate ${replica}`] = cores(processCpu(pid) - before.replicas[replica]!);
  cpu['load generator'] = (self.user + self.system) / 1e6 / seconds;
  const busy = cores(machine.busy - before.machine.busy);
  cpu['PostgreSQL'] = cores(postgresCpu() - before.postgres);
  cpu['everything else'] = Math.max(0, busy - Object.values(cpu).reduce((sum, value) => sum + value, 0));
  return { name, perSecond: count / seconds, cpu };
}

/** Cores kept busy by everything else on the machine before we start (other tests, builds). */
async function backgroundLoad(): Promise<number> {
  const before = machineCpu();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = machineCpu();
  return (after.busy - before.busy) / 100;
}

async function main(): Promise<void> {
  await requirePostgres();
  const background = await backgroundLoad();
  const schema = randomSchemaName();
  const dir = await tempDir();
  const balancer = await startBalancer('http://127.0.0.1:1');
  const issuer = `${balancer.origin}/dex`;
  const body = issuerBody(postgresStorage(TEST_POSTGRES_URL, schema), 'expiry:\n  refreshTokens:\n    reuseInterval: 0s\n');
  let replicas: Replica[] = [];
  try {
    replicas = await Promise.all(['a', 'b'].map((name) => startReplica({ name, issuer, body, dir: dir.dir })));
    const [a, b] = replicas as [Replica, Replica];
    balancer.route = () => a.origin;
    const config = await relyingParty(issuer);
    const tokens: string[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const request = await authorizationRequest(config);
      const callback = await followLogin(request.url.toString(), { redirectURI: EXAMPLE_APP.redirectURI, username: ADMIN.email, password: ADMIN.password });
      tokens.push((await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state })).refresh_token!);
    }
    await phase('warm-up', WARMUP, tokens, replicas, (n) => (n % 2 ? a : b));
    // Alternating rounds, best of each: background load on a shared machine only ever lowers a figure.
    const rounds: Array<{ one: Phase; two: Phase }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const one = await phase('one process', REFRESHES, tokens, replicas, () => a);
      const two = await phase('two processes', REFRESHES, tokens, replicas, (n) => (n % 2 ? a : b));
      rounds.push({ one, two });
    }
    console.log(`refresh_token grant, ${WORKERS} concurrent sessions, ${REFRESHES} refreshes per phase, ${ROUNDS} rounds, one PostgreSQL schema`);
    console.log(`  background before the run: ${background.toFixed(2)} cores busy, load average ${loadavg()[0]!.toFixed(1)} (figures are only meaningful near 0)`);
    for (const result of rounds.flatMap(({ one, two }) => [one, two])) {
      const cpu = Object.entries(result.cpu).map(([who, value]) => `${who} ${value.toFixed(2)}`).join(', ');
      console.log(`  ${result.name.padEnd(14)} ${result.perSecond.toFixed(0).padStart(6)} req/s   CPU cores: ${cpu}`);
    }
    const best = (pick: (round: { one: Phase; two: Phase }) => Phase) => rounds.map(pick).reduce((x, y) => (y.perSecond > x.perSecond ? y : x));
    const one = best((round) => round.one);
    const two = best((round) => round.two);
    console.log(`  best: one process ${one.perSecond.toFixed(0)} req/s, two processes ${two.perSecond.toFixed(0)} req/s; ratio two/one: ${(two.perSecond / one.perSecond).toFixed(2)}x`);
    // CPU per request (best one-process phase): a single replica cannot exceed one core; all together
    // cannot exceed the machine's cores. The second replica only adds the first limit's headroom.
    const perRequest = (cores: number) => (cores * 1000) / one.perSecond;
    const idgateMs = perRequest(one.cpu['idgate a']!);
    const allMs = idgateMs + perRequest(one.cpu['load generator']!) + perRequest(one.cpu['PostgreSQL']!);
    const cores = availableParallelism();
    const oneCeiling = Math.min(1000 / idgateMs, (cores * 1000) / allMs);
    const twoCeiling = Math.min(2000 / idgateMs, (cores * 1000) / allMs);
    console.log(`  CPU per refresh: idgate ${idgateMs.toFixed(2)} ms, load generator ${perRequest(one.cpu['load generator']!).toFixed(2)} ms, PostgreSQL ${perRequest(one.cpu['PostgreSQL']!).toFixed(2)} ms`);
    console.log(`  CPU ceilings on ${cores} cores: one process ${oneCeiling.toFixed(0)} req/s, two ${twoCeiling.toFixed(0)} req/s: at most ${(twoCeiling / oneCeiling).toFixed(2)}x`);
  } catch (error) {
    for (const replica of replicas) console.error(`--- ${replica.name} ---\n${replica.output().slice(-3000)}`);
    throw error;
  } finally {
    await Promise.allSettled(replicas.map((replica) => replica.stop('SIGTERM')));
    await balancer.close();
    await dropSchema(schema);
    await dir.remove();
  }
}

await main();
