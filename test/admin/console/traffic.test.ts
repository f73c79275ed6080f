/**
 * The traffic counters and what is made of them: per-edge allow/deny counts and the ring of recent
 * decisions, intervals cut and flushed as TrafficReports (never a token in them), a window merged from
 * this process and other replicas' reports, and the graph's callers and edges.
 */
import { describe, expect, it } from 'vitest';
import type { CheckInput, CheckResult } from '../../../src/authz/check-input.js';
import { trafficGraph } from '../../../src/admin/console/traffic/graph.js';
import { TrafficCounters } from '../../../src/admin/console/traffic/counters.js';
import { TrafficReporter } from '../../../src/admin/console/traffic/report.js';
import { readTrafficWindow } from '../../../src/admin/console/traffic/window.js';
import { createMemoryBackend } from '../../../src/storage/memory.js';
import { createStorage } from '../../../src/storage/records.js';

const input = (labels = 'app=orders'): CheckInput => ({
  transport: 'grpc', requestId: 'r', method: 'GET', host: 'orders', path: '/orders?access_token=secret-token', scheme: 'http',
  headers: { authorization: 'Bearer secret-token' }, contextExtensions: { namespace: 'shop', labels },
});
const result = (decision: 'allow' | 'deny', who: { peer?: string; principal?: string } = {}): CheckResult => ({
  decision, status: decision === 'allow' ? 200 : 403, reason: decision === 'allow' ? 'allowed' : 'no_allow_match', namespace: 'shop', body: '',
  headers: [], headersToRemove: [], queryParametersToRemove: [],
  ...(who.peer ? { peerPrincipal: who.peer } : {}), ...(who.principal ? { requestPrincipal: who.principal } : {}),
});
const PEER = 'cluster.local/ns/web/sa/frontend';
const ALICE = 'https://tokens.example/alice';

describe('traffic counters', () => {
  it('counts each edge, and cuts intervals that count from the last cut', () => {
    const counters = new TrafficCounters();
    counters.observe(input(), result('allow', { peer: PEER }), 10, 1000);
    counters.observe(input(), result('allow', { peer: PEER }), 10, 1001);
    counters.observe(input(), result('deny'), 10, 1002);
    expect(counters.cut().map(({ edge, allow, deny }) => [edge.peer, edge.namespace, edge.labels, allow, deny])).toEqual([[PEER, 'shop', 'app=orders', 2, 0], ['', 'shop', 'app=orders', 0, 1]]);
    counters.observe(input(), result('deny', { peer: PEER }), 10, 1003);
    expect(counters.sinceCut().map(({ allow, deny }) => [allow, deny])).toEqual([[0, 1]]);
    expect(counters.cut().map(({ allow, deny }) => [allow, deny])).toEqual([[0, 1]]);
    expect(counters.cut()).toEqual([]);
  });

  it('keeps the latest decisions newest first, and only the last RING_SIZE', () => {
    const counters = new TrafficCounters();
    for (let i = 0; i < 1030; i++) counters.observe(input(), result('allow'), 1, i);
    const recent = counters.recent();
    expect(recent).toHaveLength(1024);
    expect(recent[0]!.time).toBe(1029);
    expect(recent.at(-1)!.time).toBe(6);
    expect(counters.recent(10, 1025).map((d) => d.time)).toEqual([1029, 1028, 1027, 1026, 1025]);
  });

  it('sends edges beyond the bound to one overflow edge', () => {
    const counters = new TrafficCounters(2);
    for (const labels of ['app=a', 'app=b', 'app=c', 'app=d']) counters.observe(input(labels), result('allow'), 1, 0);
    expect(counters.edges().map((e) => [e.namespace, e.labels, e.allow])).toEqual([['shop', 'app=a', 1], ['shop', 'app=b', 1], ['(other)', '', 2]]);
  });
});

describe('traffic reports and windows', () => {
  it('flushes an interval to storage with its recent decisions as audit lines, never a token', async () => {
    let now = 10_000;
    const storage = createStorage(createMemoryBackend(), { now: () => now });
    const counters = new TrafficCounters();
    const reporter = new TrafficReporter(counters, { intervalMs: 1_000, retentionMs: 60_000, storage, now: () => now, replica: 'filter-a' });
    counters.observe(input(), result('allow', { peer: PEER, principal: ALICE }), 42, now);
    now += 1_000;
    await reporter.flush();
    const [report] = await storage.trafficReports.list();
    expect(report).toMatchObject({ id: 'filter-a:10000', replica: 'filter-a', from: 10_000, to: 11_000, expiresAt: 71_000 });
    expect(report!.edges).toEqual([expect.objectContaining({ peer: PEER, requestPrincipal: ALICE, namespace: 'shop', labels: 'app=orders', allow: 1, deny: 0 })]);
    expect(report!.edges[0]!.recent[0]).toMatchObject({ decision: 'allow', path: '/orders', peerPrincipal: PEER, latencyUs: 42 });
    expect(JSON.stringify(report)).not.toContain('secret-token');
    // Nothing new: no report.
    now += 1_000;
    await reporter.flush();
    expect(await storage.trafficReports.list()).toHaveLength(1);
  });

  it("merges this process's intervals, the live one, and other replicas' reports within the window", async () => {
    let now = 100_000;
    const storage = createStorage(createMemoryBackend(), { now: () => now });
    const counters = new TrafficCounters();
    const local = new TrafficReporter(counters, { intervalMs: 1_000, retentionMs: 3_600_000, storage, now: () => now, replica: 'here' });
    counters.observe(input(), result('allow', { peer: PEER }), 1, now);
    now += 1_000;
    await local.flush();
    counters.observe(input(), result('deny', { peer: PEER }), 1, now); // live, not flushed
    await storage.trafficReports.create({ id: 'there:1', replica: 'there', from: now - 2_000, to: now - 1_000, expiresAt: now + 60_000, edges: [{ peer: PEER, namespace: 'shop', labels: 'app=orders', allow: 5, deny: 0, recent: [] }] });
    await storage.trafficReports.create({ id: 'there:0', replica: 'there', from: now - 400_000, to: now - 390_000, expiresAt: now + 60_000, edges: [{ namespace: 'shop', allow: 9, deny: 9, recent: [] }] });
    const window = await readTrafficWindow({ local, storage }, 300_000, now);
    expect(window.replicas).toEqual(['here', 'there']);
    expect(window.edges).toEqual([expect.objectContaining({ peer: PEER, allow: 6, deny: 1, replicas: ['here', 'there'] })]);
    expect(window.recent.map((r) => r.line.decision)).toEqual(['deny', 'allow']);
  });
});

describe('traffic graph', () => {
  const edges = [
    { peer: PEER, requestPrincipal: ALICE, namespace: 'shop', labels: 'app=orders,version=v1', allow: 1, deny: 0, replicas: ['a'] },
    { requestPrincipal: ALICE, namespace: 'shop', labels: 'app=orders,version=v1', allow: 2, deny: 1, replicas: ['a'] },
    { namespace: 'shop', allow: 0, deny: 4, replicas: ['a'] },
  ];

  it('names callers by peer first: workloads in their namespace, token principals, anonymous', () => {
    const graph = trafficGraph({ edges });
    expect(graph.edges.map((e) => [e.id, e.total, e.allow, e.deny, e.mtls])).toEqual([
      ['anonymous -> wl:shop|', 4, 0, 4, 0],
      [`rp:${ALICE} -> wl:shop|app=orders,version=v1`, 3, 2, 1, 0],
      [`peer:${PEER} -> wl:shop|app=orders,version=v1`, 1, 1, 0, 1],
    ]);
    expect(graph.nodes.find((n) => n.id === `peer:${PEER}`)).toMatchObject({ label: 'frontend', parent: 'ns:web', kind: 'peer' });
    expect(graph.nodes.find((n) => n.id === 'wl:shop|app=orders,version=v1')).toMatchObject({ label: 'orders', parent: 'ns:shop' });
    expect(graph.nodes.find((n) => n.id === 'wl:shop|')).toMatchObject({ label: '(default workload)' });
  });

  it('names callers by token principal first on request, mixing mTLS on the edge', () => {
    const graph = trafficGraph({ edges }, 'request');
    expect(graph.edges.find((e) => e.source === `rp:${ALICE}`)).toMatchObject({ total: 4, mtls: 1 });
  });
});
