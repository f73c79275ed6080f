/**
 * bench:filter-rules — cost per decision with 1,000 rules against 10 rules (target <= 2x), in-process
 * (the engine without a transport), same run, alternating. Requests hit rules spread over the policy,
 * plus misses (denied after looking at every candidate), with a cached JWT.
 */
import type { CheckInput } from '../../src/authz/check-input.js';
import { loadavg } from 'node:os';
import { benchKeys, fmt, startBenchFilter, typicalHeaders } from './setup.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const { jwks, sign } = await benchKeys('RS256');
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 shared cores)`);
const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(`user-${i}`)));

function inputs(rules: number): CheckInput[] {
  const itemRules = Math.ceil(rules / 4);
  return Array.from({ length: 200 }, (_, i) => {
    const path = i % 10 === 9 ? `/svc${i % rules}/nothing` : `/svc${((i * 37) % itemRules) * 4}/items/${i}`;
    return {
      transport: 'grpc', requestId: `r${i}`, method: 'GET', host: 'shop.example.com', path, scheme: 'https',
      headers: typicalHeaders(tokens[i % tokens.length]!, path), sourceIp: '10.1.2.3', destinationPort: 8080,
      contextExtensions: { namespace: 'shop' },
    } satisfies CheckInput;
  });
}

async function timeChunk(check: (input: CheckInput) => Promise<unknown>, list: CheckInput[], offset: number, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = offset; i < offset + count; i++) await check(list[i % list.length]!);
  return Number(process.hrtime.bigint() - start);
}

/** Small and large alternate every CHUNK decisions, so both see the same machine load. */
async function measurePair(a: (input: CheckInput) => Promise<unknown>, aList: CheckInput[], b: (input: CheckInput) => Promise<unknown>, bList: CheckInput[]): Promise<[number, number]> {
  const CHUNK = 500;
  let aNs = 0;
  let bNs = 0;
  for (let offset = 0; offset < ITERATIONS; offset += CHUNK) {
    aNs += await timeChunk(a, aList, offset, CHUNK);
    bNs += await timeChunk(b, bList, offset, CHUNK);
  }
  return [aNs / ITERATIONS / 1000, bNs / ITERATIONS / 1000];
}

const small = await startBenchFilter(10, jwks, { audit: { enabled: false } });
const large = await startBenchFilter(1000, jwks, { audit: { enabled: false } });
const smallInputs = inputs(10);
const largeInputs = inputs(1000);
await measurePair(small.check, smallInputs, large.check, largeInputs);

console.log(`decision cost, in-process, ${fmt(ITERATIONS)} decisions per run, 10 and 1000 rules alternating every 500 (cached JWT, 10% misses), µs per decision:`);
const results = { small: [] as number[], large: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const [smallUs, largeUs] = await measurePair(small.check, smallInputs, large.check, largeInputs);
  results.small.push(smallUs);
  results.large.push(largeUs);
  console.log(`  round ${round + 1}:   10 rules ${fmt(smallUs, 2).padStart(7)}   1000 rules ${fmt(largeUs, 2).padStart(7)}   ratio ${fmt(largeUs / smallUs, 2)}`);
}
const best = (list: number[]) => Math.min(...list);
console.log(`\n1000 rules / 10 rules (best of ${ROUNDS}): ${fmt(best(results.large) / best(results.small), 2)}x  (target <= 2x)`);
await small.close();
await large.close();
