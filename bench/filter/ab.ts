/**
 * bench:filter-ab — the filter's server-side work per gRPC Check (decode the CheckRequest bytes, decide,
 * encode the CheckResponse, format the audit line) in this tree against a baseline git revision, both
 * loaded into the same process and measured in alternating slices, so machine noise hits both alike:
 * the figure is the same-run ratio of CPU time per decision. grpc-js itself is not in the loop (it is
 * the same code on both sides; bench:filter measures it).
 *
 *   npm run bench:filter-ab -- <revision>      (default: HEAD)
 *
 * The baseline is checked out with `git worktree add` into a temporary directory (removed at the end)
 * and shares this tree's node_modules. Requests: 100 users' RS256 tokens (verified once, then cached),
 * 50-rule policy, 1 in 10 denied — bench:filter's mix.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { loadAuthorizationProto } from '../../src/authz/transport/proto.js';
import { benchKeys, benchRequests, fmt, policyYaml } from './setup.js';

const REVISION = process.argv[2] ?? 'HEAD';
const RULES = Number(process.env.BENCH_RULES ?? 50);
const SLICE = Number(process.env.BENCH_SLICE ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);

interface Tree {
  name: string;
  decode: (message: unknown) => unknown;
  check: (input: unknown) => Promise<{ decision: string }>;
  encode: (result: unknown) => Buffer;
  audit: (input: unknown, result: unknown) => string;
  close: () => Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');
const baseDir = mkdtempSync(join(tmpdir(), 'idgate-bench-ab-'));
execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', '-q', baseDir, REVISION]);
symlinkSync(join(root, 'node_modules'), join(baseDir, 'node_modules'));

const { jwks, sign } = await benchKeys('RS256');
const policyDir = mkdtempSync(join(tmpdir(), 'idgate-bench-ab-policies-'));
writeFileSync(join(policyDir, 'policies.yaml'), policyYaml(RULES, jwks));

async function load(name: string, dir: string): Promise<Tree> {
  const at = (path: string) => import(pathToFileURL(join(dir, path)).href);
  const [{ parseFilterConfig }, { startFilter }, messages, { CheckResponseEncoder }, { auditJson }, { silentLogger }, { checkService }, { loadAuthorizationProto }] = await Promise.all([
    at('src/authz/config.ts'), at('src/authz/index.ts'), at('src/authz/transport/grpc-messages.ts'),
    at('src/authz/transport/grpc-response.ts'), at('src/authz/audit.ts'), at('src/telemetry/logger.ts'),
    at('src/authz/transport/grpc-server.ts'), at('src/authz/transport/proto.ts'),
  ]);
  // The tree's own reading of the request bytes, as its gRPC server does it.
  const deserialize = checkService(loadAuthorizationProto().service).Check.requestDeserialize as (bytes: Buffer) => unknown;
  const filter = await startFilter({
    config: parseFilterConfig({ policies: [policyDir], watch: false, defaultWorkload: { namespace: 'shop' } }),
    logger: silentLogger(), registry: new Registry(), auditSink: { write: () => undefined },
  });
  const encoder = new CheckResponseEncoder();
  const options = { numTrustedProxies: 0 }; // ignored by a baseline whose decoder takes no options
  return {
    name,
    decode: (bytes) => messages.checkInputFromGrpc(deserialize(bytes as Buffer), options),
    check: (input) => filter.check(input),
    encode: (result) => encoder.encode(result),
    audit: (input, result) => auditJson(input, result, 40, Date.now()),
    close: () => filter.close(),
  };
}

async function slice(tree: Tree, requests: readonly unknown[], count: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const input = tree.decode(requests[i % requests.length]);
    const result = await tree.check(input);
    tree.encode(result);
    tree.audit(input, result);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

let exitCode = 0;
const trees: Tree[] = [];
try {
  const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => sign(`user-${i}`)));
  const serialize = loadAuthorizationProto().service.Check!.requestSerialize;
  const requests = benchRequests(tokens, RULES).map((request) => serialize(request));
  trees.push(await load(`baseline ${REVISION}`, baseDir), await load('this tree', root));
  for (const tree of trees) {
    const denied = (await Promise.all(requests.map(async (r) => (await tree.check(tree.decode(r))).decision === 'deny'))).filter(Boolean).length;
    console.log(`${tree.name}: ${denied} of ${requests.length} requests denied`);
    await slice(tree, requests, SLICE); // warm-up: JIT, verified-token cache
  }
  console.log(`\nserver-side work per gRPC Check (decode, decide, encode, audit line), ${RULES} rules, ${ROUNDS} rounds of ${fmt(SLICE)} per tree, alternating`);
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? trees : [...trees].reverse();
    const cost = new Map<Tree, number>();
    for (const tree of order) cost.set(tree, await slice(tree, requests, SLICE));
    const [base, current] = [cost.get(trees[0]!)!, cost.get(trees[1]!)!];
    ratios.push(current / base);
    console.log(`  round ${round + 1}: baseline ${fmt(base, 2)} µs, this tree ${fmt(current, 2)} µs, ratio ${fmt(current / base, 3)}`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`\nCPU per decision, this tree / baseline: median ${fmt(ratios[Math.floor(ratios.length / 2)]!, 3)} (range ${fmt(ratios[0]!, 3)}–${fmt(ratios[ratios.length - 1]!, 3)}; 1.05 = 5 % slower)`);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  for (const tree of trees) await tree.close();
  execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', baseDir]);
  rmSync(policyDir, { recursive: true, force: true });
}
process.exit(exitCode);
