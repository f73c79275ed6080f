// bench:cel — the two CEL candidates side by side, then idgate's own claim rules. (a) The cel-spec
// conformance sections an idgate expression draws on (bench/cel-conformance.ts), pass counts per
// library. (b) Compile (parse + check, or parse + plan where the library has no public checker) and
// evaluation CPU per expression of the kinds idgate runs (claim mappings, rules over claims with a
// list of groups, client claims over user and scopes), alternating A B A B in one process; the
// figure to read is the ratio. (c) idgate's path (src/claims/): the CEL work of one login through a
// connector with rules and of one token for a client with claims, and the worst case the cost
// limit allows. `npm run bench:cel [-- --rounds N --evals N]`.
import { celEnv, CelScalar, listType, mapType, parse as bufbuildParse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { Environment } from '@marcbachmann/cel-js';
import { parse as parseYaml } from 'yaml';
import { compileExpression, COST_LIMIT, RESULT_TYPES } from '../src/claims/cel.js';
import { evaluateClientClaims } from '../src/claims/client-claims.js';
import { CLIENT_CLAIM_KEYS, clientClaimRules, CONNECTOR_CLAIM_KEYS, connectorClaimRules } from '../src/claims/config.js';
import { applyConnectorClaims } from '../src/claims/connector-claims.js';
import { celMap, INPUT_LIMITS, newBudget } from '../src/claims/values.js';
import { z } from 'zod';
import { runConformance } from './cel-conformance.js';
import { numberFlag } from './flags.js';

const ROUNDS = numberFlag('rounds', 5);
const EVALS = numberFlag('evals', 20_000);

function cpuPerCall(count: number, run: () => unknown): number {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fixed = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

console.log(`bench:cel  Node ${process.version}, ${ROUNDS} rounds, CPU µs per call (median of rounds)\n`);

// --- (a) conformance ---
console.log('(a) cel-spec conformance (@bufbuild/cel-spec 0.6.1 = cel-spec v0.25.1), tests without protobuf messages');
console.log('| section | tests | run | @bufbuild/cel | @marcbachmann/cel-js |');
console.log('|---|---:|---:|---:|---:|');
const sections = runConformance();
for (const s of sections) console.log(`| ${s.section} | ${s.total} | ${s.total - s.skipped} | ${s.bufbuild} | ${s.celJs} |`);
const total = (key: 'total' | 'skipped' | 'bufbuild' | 'celJs') => sections.reduce((sum, s) => sum + s[key], 0);
console.log(`| **all** | ${total('total')} | ${total('total') - total('skipped')} | ${total('bufbuild')} | ${total('celJs')} |\n`);

// --- (b) the libraries on idgate's kinds of expressions ---
const groups = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? `eng-team-${i}` : i % 7 === 0 ? `app-role-${i}` : `org/group-${i}`));
const claims = { sub: '248289761001', email: 'jane@example.com', email_verified: true, name: 'Jane Doe', preferred_username: 'Jane.Doe', groups, hd: 'example.com', department: 'engineering' };
const user = { uid: '248289761001', username: 'jane', preferredUsername: 'jane', email: 'jane@example.com', emailVerified: true, groups, extra: { department: 'engineering' }, connectorID: 'corp' };
const scopes = ['openid', 'email', 'profile', 'groups'];
const context = { claims, user, scopes };
const EXPRESSIONS = [
  ['username mapping', 'claims.email'],
  ['preferredUsername mapping', 'claims.preferred_username.lowerAscii()'],
  ['groups mapping (filter + map over 50)', 'claims.groups.filter(g, g.startsWith("eng-")).map(g, "team:" + g)'],
  ['claim rule (email domain)', 'claims.email_verified == true && claims.email.endsWith("@example.com")'],
  ['claim rule (exists over 50 groups)', 'claims.groups.exists(g, g == "admins" || g.startsWith("sre-"))'],
  ['user rule', '!user.username.startsWith("system:") && size(user.groups) <= 200'],
  ['client claim (scope-gated roles)', '"groups" in scopes ? user.groups.filter(g, g.startsWith("app-")).map(g, g.substring(4)) : []'],
] as const;

const celJs = new Environment().registerVariable('claims', 'map<string, dyn>').registerVariable('user', 'map<string, dyn>').registerVariable('scopes', 'list<string>');
const bufbuild = celEnv({
  variables: { claims: mapType(CelScalar.STRING, CelScalar.DYN), user: mapType(CelScalar.STRING, CelScalar.DYN), scopes: listType(CelScalar.STRING) },
  funcs: strings,
});

console.log('(b) per expression, the same inputs (50 groups): compile and evaluate');
console.log('| expression | compile: bufbuild / cel-js µs | ratio | evaluate: bufbuild / cel-js µs | ratio |');
console.log('|---|---:|---:|---:|---:|');
for (const [label, source] of EXPRESSIONS) {
  const compiledJs = celJs.parse(source);
  if (!compiledJs.check().valid) throw new Error(`cel-js refuses ${source}`);
  const planned = plan(bufbuild, bufbuildParse(source)) as (bindings: unknown) => unknown;
  const compileA: number[] = [];
  const compileB: number[] = [];
  const evalA: number[] = [];
  const evalB: number[] = [];
  cpuPerCall(2000, () => compiledJs(context));
  cpuPerCall(2000, () => planned(context));
  for (let round = 0; round < ROUNDS; round++) {
    compileA.push(cpuPerCall(1000, () => plan(bufbuild, bufbuildParse(source))));
    compileB.push(cpuPerCall(1000, () => celJs.parse(source).check()));
    evalA.push(cpuPerCall(EVALS, () => planned(context)));
    evalB.push(cpuPerCall(EVALS, () => compiledJs(context)));
  }
  const [ca, cb, ea, eb] = [median(compileA), median(compileB), median(evalA), median(evalB)];
  console.log(`| ${label} | ${fixed(ca)} / ${fixed(cb)} | ${(ca / cb).toFixed(1)} | ${fixed(ea)} / ${fixed(eb)} | ${(ea / eb).toFixed(1)} |`);
}

// --- (c) idgate's own path ---
const connectorKeys = z.strictObject(CONNECTOR_CLAIM_KEYS).parse(parseYaml(`
claimMappings:
  username: { expression: claims.preferred_username.lowerAscii() }
  groups: { expression: 'claims.groups.filter(g, g.startsWith("eng-")).map(g, "team:" + g)' }
  extra:
    - { key: department, valueExpression: claims.department }
claimValidationRules:
  - { expression: 'claims.email_verified == true && claims.email.endsWith("@example.com")', message: Use your example.com account }
  - { expression: 'claims.hd == "example.com"', message: Use your example.com account }
userValidationRules:
  - { expression: '!user.username.startsWith("system:")', message: No system accounts }
`));
const clientKeys = z.strictObject(CLIENT_CLAIM_KEYS).parse(parseYaml(`
claims:
  - { key: roles, valueExpression: 'user.groups.filter(g, g.startsWith("app-")).map(g, g.substring(4))' }
  - { key: department, valueExpression: 'user.extra.department', tokens: [access_token] }
userValidationRules:
  - { expression: '"groups" in scopes && user.emailVerified', message: Verified accounts only }
`));
const connectorRules = connectorClaimRules(connectorKeys)!;
const clientRules = clientClaimRules(clientKeys)!;
const identity = { userId: '248289761001', username: 'Jane Doe', email: 'jane@example.com', emailVerified: true, claims };
const mapped = applyConnectorClaims(connectorRules, identity, 'corp');
const perLogin: number[] = [];
const perToken: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  perLogin.push(cpuPerCall(EVALS / 4, () => applyConnectorClaims(connectorRules, identity, 'corp')));
  perToken.push(cpuPerCall(EVALS / 4, () => evaluateClientClaims(clientRules, { identity: mapped, connectorId: 'corp', scopes })));
}
console.log('\n(c) idgate (src/claims/, @marcbachmann/cel-js), 50 groups: the CEL work added to one login and to one token');
console.log(`| per login: 3 mappings, 2 claim rules, 1 user rule (input conversion included) | ${fixed(median(perLogin))} µs |`);
console.log(`| per token: 2 client claims, 1 client rule | ${fixed(median(perToken))} µs |`);

// The worst the cost limit allows: accepted expressions near it, over inputs at every cap; one spends
// its cost on characters, one on AST nodes (the dearer unit).
const huge = Array.from({ length: INPUT_LIMITS.maxItems }, (_, i) => `${'g'.repeat(90)}-${String(i).padStart(4, '0')}`);
const atCaps = { claims: celMap({ groups: huge }, 'claims', newBudget()) };
const literals = Array.from({ length: 100 }, (_, i) => `"x${i}"`).join(', ');
for (const [label, source] of [
  ['characters', 'claims.groups.map(g, g.lowerAscii() + g.upperAscii() + g.trim())'],
  ['nodes', `claims.groups.exists(g, [${literals}].exists(b, g == b))`],
] as const) {
  const worst = compileExpression(source, 'claims', RESULT_TYPES.json);
  const times: number[] = [];
  cpuPerCall(3, () => worst.evaluate(atCaps));
  for (let round = 0; round < ROUNDS; round++) times.push(cpuPerCall(10, () => worst.evaluate(atCaps)));
  const us = median(times);
  console.log(`| near the limit (${label}): estimated ${worst.cost} of ${COST_LIMIT}, ${INPUT_LIMITS.maxItems} groups of 95 characters | ${fixed(us)} µs (${((us * 1000) / worst.cost).toFixed(1)} ns per unit) |`);
}
