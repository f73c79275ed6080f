/**
 * The traffic graph fed by a filter in another process: a real `idgate serve` child (filter only, on
 * the same PostgreSQL schema) decides real gRPC ext_authz Check calls and flushes its counts as
 * TrafficReports; the console in this process (issuer and console, no filter of its own) shows them
 * in the browser, naming the replica they came from.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.js';
import { postgresStorage, startReplica, tempDir, type Replica } from '../../replicas/cluster.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from '../../storage/postgres-helpers.js';
import { launchBrowser } from './browser.js';
import { FRONTEND, FRONTEND_PRINCIPAL, sendChecks, signIn, startConsoleServer, USERS, type ConsoleServer } from './harness.js';

const schema = randomSchemaName();
let server: ConsoleServer;
let replica: Replica;
let browser: Browser;
let dir: Awaited<ReturnType<typeof tempDir>>;
let grpcPort: number;

beforeAll(async () => {
  await requirePostgres();
  server = await startConsoleServer({ mesh: 'strict', filter: false, storage: () => postgresStorage(TEST_POSTGRES_URL, schema) });
  dir = await tempDir();
  grpcPort = await freePort();
  replica = await startReplica({
    name: 'filter-a', issuer: server.issuer, web: false, dir: dir.dir,
    body: `${postgresStorage(TEST_POSTGRES_URL, schema)}logger: { level: warn }
filter:
  grpc: "127.0.0.1:${grpcPort}"
  policies: [${server.dir}/policies]
  audit: { enabled: false }
  watch: false
  trafficReports: { interval: 1s }
`,
  });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await replica?.stop();
  await server?.close();
  await dir?.remove();
  await dropSchema(schema);
});

describe('a filter replica in another process', () => {
  it('feeds the graph through storage: its edges, counts and mTLS share, under its replica name', async () => {
    const statuses = await sendChecks(`127.0.0.1:${grpcPort}`, [
      ...Array.from({ length: 3 }, () => ({ peer: FRONTEND, path: '/orders' })),
      { path: '/orders' },
    ]);
    expect(statuses).toEqual([200, 200, 200, 403]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await signIn(page, server.console, USERS.viewer, '/graph');
    const edge = `tr[data-edge="peer:${FRONTEND_PRINCIPAL} -> wl:shop|app=orders"] td`;
    // The replica flushes every second: reload until its report is in storage (no timing asserted).
    const deadline = Date.now() + 20_000;
    while ((await page.locator(edge).count()) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await page.reload();
    }
    const cells = page.locator(edge);
    await expect(cells.nth(2).textContent()).resolves.toBe('3');
    await expect(cells.nth(5).textContent()).resolves.toBe('100%');
    const anonymous = page.locator('tr[data-edge="anonymous -> wl:shop|app=orders"] td');
    await expect(anonymous.nth(4).textContent()).resolves.toBe('1');
    await expect(page.locator('main').textContent()).resolves.toContain('1 filter replica(s)');
    // The decisions page names the replica: the child's host name and pid.
    await page.goto(`${server.console}/decisions`);
    const replicaName = (await page.locator('tr.decision td').nth(1).textContent()) ?? '';
    expect(replicaName).toContain(`-${replica.child.pid}-`);
    await expect(page.locator('tr.decision').count()).resolves.toBe(4);
    await context.close();
  });
});
