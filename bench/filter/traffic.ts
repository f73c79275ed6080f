/**
 * bench:filter-traffic — what the console's traffic counters add to the filter's hot path: the
 * per-decision DecisionRecorder.record (decision counter, latency histogram, audit line to a no-op
 * sink) with and without the TrafficCounters observer, in one process, alternating slices so machine
 * noise hits both alike. Requests and results are bench:filter's mix (100 users, so 100+ edges),
 * decided once by a real filter; the loop then records them over and over.
 *
 *   npm run bench:filter-traffic
 */
import { Registry } from 'prom-client';
import { TrafficCounters } from '../../src/admin/console/traffic/counters.js';
import type { CheckInput, CheckResult } from '../../src/authz/check-input.js';
import { DecisionRecorder } from '../../src/authz/decision-recorder.js';
import { createFilterMetrics } from '../../src/authz/metrics.js';
import { checkInputFromGrpc } from '../../src/authz/transport/grpc-messages.js';
import { benchKeys, benchRequests, fmt, startBenchFilter } from './setup.js';

const RULES = 50;
const SLICE = Number(process.env.BENCH_SLICE ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

const { jwks, sign } = await benchKeys('RS256');
const filter = await startBenchFilter(RULES, jwks);
const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(`user-${i}`)));
const decided: Array<[CheckInput, CheckResult]> = [];
for (const message of benchRequests(tokens, RULES)) {
  const input = checkInputFromGrpc(message, { numTrustedProxies: 0 });
  decided.push([input, await filter.check(input)]);
}
await filter.close();

const sink = { write: () => undefined };
const plain = new DecisionRecorder(createFilterMetrics(new Registry()), sink, Date.now);
const counters = new TrafficCounters();
const observed = new DecisionRecorder(createFilterMetrics(new Registry()), sink, Date.now, counters);

function slice(recorder: DecisionRecorder): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < SLICE; i++) {
    const [input, result] = decided[i % decided.length]!;
    recorder.record(input, result, started);
  }
  return Number(process.hrtime.bigint() - started) / SLICE;
}

slice(plain);
slice(observed);
console.log(`DecisionRecorder.record per decision, ${decided.length} distinct requests (${counters.edges().length} edges), ${ROUNDS} rounds of ${fmt(SLICE)}, alternating`);
const deltas: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const cost = new Map<DecisionRecorder, number>();
  for (const recorder of round % 2 === 0 ? [plain, observed] : [observed, plain]) cost.set(recorder, slice(recorder));
  const [without, withCounters] = [cost.get(plain)!, cost.get(observed)!];
  deltas.push(withCounters - without);
  console.log(`  round ${round + 1}: without ${fmt(without, 1)} ns, with traffic counters ${fmt(withCounters, 1)} ns, +${fmt(withCounters - without, 1)} ns`);
}
deltas.sort((x, y) => x - y);
console.log(`\ntraffic counters add: median ${fmt(deltas[Math.floor(deltas.length / 2)]!, 1)} ns per decision (range ${fmt(deltas[0]!, 1)}–${fmt(deltas[deltas.length - 1]!, 1)} ns)`);
