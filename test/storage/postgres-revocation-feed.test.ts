// The PostgreSQL revocation feed: a revocation stored by one replica reaches every listener within a
// second, through LISTEN/NOTIFY, and a listener that lost its connection catches up by itself.
import { pino } from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import { createPostgresRevocationFeed } from '../../src/storage/postgres-revocation-feed.js';
import { createStorage } from '../../src/storage/records.js';
import { openRevocationFeed, type RevocationFeed } from '../../src/storage/revocation-feed.js';
import type { Revocation, Storage } from '../../src/storage/storage.js';
import { expectStorageError } from './conformance.js';
import { revocation } from './fixtures.js';
import {
  adminClient, applicationNameFor, dropSchema, randomSchemaName, requirePostgres, terminateSchemaConnections,
  TEST_POSTGRES_URL, testConfig,
} from './postgres-helpers.js';
import { startPostgresProxy } from './postgres-proxy.js';

beforeAll(requirePostgres);

let schema: string;
let issuer: Storage; // the replica that revokes
let filter: Storage; // the replica that listens (its own pool)
const feeds: RevocationFeed[] = [];
const others: Array<{ schema: string; storage: Storage }> = [];
const warnings: string[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });

beforeEach(async () => {
  schema = randomSchemaName();
  issuer = createStorage(await createPostgresBackend(testConfig(schema)));
  filter = createStorage(await createPostgresBackend(testConfig(schema)));
});

afterEach(async () => {
  await Promise.all(feeds.splice(0).map((feed) => feed.close()));
  for (const other of others.splice(0)) {
    await other.storage.close();
    await dropSchema(other.schema);
  }
  await issuer.close();
  await filter.close();
  warnings.length = 0;
  await dropSchema(schema);
});

/** Starts a feed for the test schema; `arrivals` maps each revocation ID to when it arrived. */
async function listen(options: { minBackoffMs?: number } = {}) {
  const arrivals = new Map<string, number>();
  const delivered: Revocation[] = [];
  const feed = createPostgresRevocationFeed(testConfig(schema, {}, true), { revocations: filter.revocations, logger, ...options });
  feeds.push(feed);
  await feed.start((r) => {
    delivered.push(r);
    if (!arrivals.has(r.id)) arrivals.set(r.id, performance.now());
  });
  return { feed, arrivals, delivered };
}

async function waitFor<T>(get: () => T | undefined, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('postgres revocation feed', () => {
  it('delivers a revocation stored through another pool within 1 s (measured)', async () => {
    const { arrivals, delivered } = await listen();
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const stored = revocation(`s${i}`, Date.now());
      const before = performance.now();
      await issuer.revocations.create(stored);
      const arrived = await waitFor(() => arrivals.get(stored.id), `revocation ${stored.id}`);
      latencies.push(arrived - before);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`postgres revocation feed: create-to-delivery latency over 10 revocations: median ` +
      `${sorted[5]!.toFixed(1)} ms, max ${sorted[9]!.toFixed(1)} ms`);
    expect(sorted[9]).toBeLessThan(1000);
    expect(delivered.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `sid:s${i}`));
    expect(delivered[0]).toEqual(await filter.revocations.get('sid:s0'));
  });

  it('delivers the revocations that already exist before start() resolves', async () => {
    await issuer.revocations.create(revocation('old', Date.now()));
    const { delivered } = await listen();
    expect(delivered.map((r) => r.id)).toEqual(['sid:old']);
  });

  it('announces a revocation too large for a NOTIFY payload by ID, and the feed reads it from storage', async () => {
    const { arrivals, delivered } = await listen();
    const large = revocation('s1', Date.now(), 'u'.repeat(9000));
    await issuer.revocations.create(large);
    await waitFor(() => arrivals.get(large.id), 'the large revocation');
    expect(delivered).toEqual([large]);
  });

  it('announces one whose ID alone is too large as "re-read", and the feed re-reads the revocations', async () => {
    const { arrivals, delivered } = await listen();
    const huge = revocation('x'.repeat(9000), Date.now());
    await issuer.revocations.create(huge);
    await waitFor(() => arrivals.get(huge.id), 'the revocation with a huge ID');
    expect(delivered).toEqual([huge]);
  });

  it('announces nothing when the insert does not happen (ID already revoked)', async () => {
    const { delivered } = await listen();
    const first = revocation('dup', Date.now());
    await issuer.revocations.create(first);
    await waitFor(() => (delivered.length > 0 ? true : undefined), 'the first revocation');
    await expectStorageError(issuer.revocations.create({ ...first, userId: 'someone-else' }), 'already_exists');
    await sleep(300);
    expect(delivered).toEqual([first]);
  });

  it("ignores revocations stored in another deployment's schema on the same database", async () => {
    const { delivered } = await listen();
    const other = { schema: randomSchemaName(), storage: undefined as unknown as Storage };
    other.storage = createStorage(await createPostgresBackend(testConfig(other.schema)));
    others.push(other);
    await other.storage.revocations.create(revocation('elsewhere', Date.now()));
    await issuer.revocations.create(revocation('here', Date.now()));
    await waitFor(() => (delivered.length > 0 ? true : undefined), 'the local revocation');
    await sleep(100);
    expect(delivered.map((r) => r.id)).toEqual(['sid:here']);
  });

  it('reconnects by itself after its connection is killed and delivers what was revoked meanwhile', async () => {
    const { arrivals } = await listen({ minBackoffMs: 400 });
    expect(await terminateSchemaConnections(schema)).toBe(1); // only the feed's connection is tagged
    await issuer.revocations.create(revocation('while-away', Date.now())); // no listener to notify now
    const start = performance.now();
    const arrived = await waitFor(() => arrivals.get('sid:while-away'), 'the catch-up after reconnecting');
    console.log(`postgres revocation feed: caught up ${(arrived - start).toFixed(0)} ms after losing its connection`);
    expect(warnings).toContain('revocation feed: lost its PostgreSQL connection; reconnecting');
    await issuer.revocations.create(revocation('after', Date.now()));
    await waitFor(() => arrivals.get('sid:after'), 'a revocation after the reconnect', 1000);
  });

  it('notices a connection that went silent (no reset) by its heartbeat, reconnects and catches up', async () => {
    const target = new URL(TEST_POSTGRES_URL);
    const proxy = await startPostgresProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const delivered: string[] = [];
      const feed = createPostgresRevocationFeed(testConfig(schema, { host: '127.0.0.1', port: proxy.port }), {
        revocations: filter.revocations, logger, heartbeatMs: 200,
      });
      feeds.push(feed);
      await feed.start((r) => delivered.push(r.id));
      proxy.freeze();
      await issuer.revocations.create(revocation('during-partition', Date.now()));
      await waitFor(() => (delivered.includes('sid:during-partition') ? true : undefined), 'the catch-up after the partition');
      expect(warnings).toContain('revocation feed: lost its PostgreSQL connection; reconnecting');
    } finally {
      await proxy.close();
    }
  });

  it('fails start() when PostgreSQL cannot be reached (unavailable)', async () => {
    const feed = createPostgresRevocationFeed({ host: '127.0.0.1', port: 1, user: 'postgres', connectionTimeout: 1 }, {
      revocations: filter.revocations,
    });
    feeds.push(feed);
    await expectStorageError(feed.start(() => undefined), 'unavailable');
  });

  it('is what openRevocationFeed picks for postgres storage: one connection LISTENing', async () => {
    const feed = await openRevocationFeed({ type: 'postgres', config: testConfig(schema, {}, true) }, filter.revocations);
    feeds.push(feed);
    await feed.start(() => undefined);
    const admin = await adminClient();
    try {
      const result = await admin.query('SELECT query FROM pg_stat_activity WHERE application_name = $1', [applicationNameFor(schema)]);
      expect(result.rows).toEqual([{ query: 'LISTEN idgate_revocations' }]);
    } finally {
      await admin.end();
    }
  });

  it('delivers nothing after close()', async () => {
    const { feed, delivered } = await listen();
    await feed.close();
    await issuer.revocations.create(revocation('late', Date.now()));
    await sleep(200);
    expect(delivered).toEqual([]);
  });
});
