// Faults: killed connections and a database restart give StorageUnavailableError or a right answer,
// never a wrong one, and the pool recovers by itself.
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import { isConnectionError } from '../../src/storage/postgres-errors.js';
import { createStorage } from '../../src/storage/records.js';
import { StorageUnavailableError, type Storage } from '../../src/storage/storage.js';
import { expectStorageError } from './conformance.js';
import { client, refreshToken } from './fixtures.js';
import {
  adminClient, applicationNameFor, dropSchema, randomSchemaName, requirePostgres, terminateSchemaConnections,
  TEST_POSTGRES_URL, testConfig,
} from './postgres-helpers.js';
import { startPostgresProxy } from './postgres-proxy.js';

beforeAll(requirePostgres);

const NOW = Date.UTC(2026, 0, 1);
let schema: string;
let storage: Storage | undefined;
const warnings: string[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });

afterEach(async () => {
  await storage?.close();
  storage = undefined;
  warnings.length = 0;
  await dropSchema(schema);
});

async function open(overrides = {}, queryTimeoutMs?: number): Promise<Storage> {
  schema = randomSchemaName();
  const backend = await createPostgresBackend(testConfig(schema, overrides, true), { logger, queryTimeoutMs });
  storage = createStorage(backend, { now: () => NOW });
  return storage;
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('postgres faults: which errors mean "unavailable"', () => {
  it.each([
    ['57P01 admin_shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['08006 connection_failure', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['57P03 cannot_connect_now', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['ECONNREFUSED on every address', new AggregateError([Object.assign(new Error(''), { code: 'ECONNREFUSED' })], '')],
    ['a socket that died mid-query', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['a statement left unanswered past its query timeout', new Error('Query read timeout')],
  ])('counts %s as unavailable', (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['23505 unique_violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['42P01 undefined_table', Object.assign(new Error('relation "records" does not exist'), { code: '42P01' })],
    ['a plain bug', new TypeError('x is undefined')],
  ])('lets %s through unchanged', (_name, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});

describe('postgres faults: recovery', () => {
  it('refuses to open against a port nobody listens on (unavailable, naming the cause)', async () => {
    schema = randomSchemaName();
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const opening = createPostgresBackend({ host: '127.0.0.1', port: closedPort, user: 'postgres', connectionTimeout: 2 });
    await expectStorageError(opening, 'unavailable');
    await expect(opening).rejects.toThrow(/^PostgreSQL is unavailable \(migrating\): .*ECONNREFUSED/);
  });

  it('fails a write in flight when its connection is killed (unavailable), writes nothing, and serves the next call', async () => {
    const store = await open();
    await store.clients.create(client('app'));
    const admin = await adminClient();
    try {
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".records WHERE kind = 'clients' AND id = 'app' FOR UPDATE`);
      // Settled into a value at once, so the rejection is never "unhandled" while the test works.
      const renamed = store.clients.update('app', (c) => ({ ...c, name: 'renamed' })).then(() => undefined, (error: unknown) => error);
      const blocked = async () => (await admin.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [applicationNameFor(schema)],
      )).rowCount === 1;
      await until(blocked, 'the update waits on the row lock');
      expect(await terminateSchemaConnections(schema)).toBeGreaterThanOrEqual(1);
      const error = await renamed;
      expect(error).toBeInstanceOf(StorageUnavailableError);
      expect((error as StorageUnavailableError).code).toBe('unavailable');
      expect((error as Error).message).toMatch(/^PostgreSQL is unavailable \(replace clients\): terminating connection .*\(57P01\)$/);
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
    expect((await store.clients.get('app'))?.name).toBe('Example App');
    expect((await store.clients.update('app', (c) => ({ ...c, name: 'renamed' }))).name).toBe('renamed');
  });

  it('discards and logs an idle connection killed under it, and answers the next call on a fresh one', async () => {
    const store = await open();
    await store.ping();
    expect(await terminateSchemaConnections(schema)).toBe(1);
    await until(() => warnings.length > 0, 'the pool reports the lost connection');
    expect(warnings).toEqual(['postgres: an idle connection was lost; the pool will open a new one']);
    await store.ping();
  });

  it('under load, answers right or "unavailable" while every connection is killed repeatedly, then recovers with committed data intact', async () => {
    const store = await open({ maxOpenConns: 4 });
    await store.refreshTokens.create(refreshToken('counter', NOW));
    const outcome = { created: [] as string[], increments: 0, unavailable: 0, other: [] as unknown[] };
    const record = (error: unknown) => (error instanceof StorageUnavailableError ? outcome.unavailable++ : outcome.other.push(error));
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const id = `w${w}-${i}`;
        await store.refreshTokens.create(refreshToken(id, NOW)).then(() => outcome.created.push(id), record);
        await store.refreshTokens.update('counter', (t) => ({ ...t, lastUsedAt: t.lastUsedAt + 1 }))
          .then(() => outcome.increments++, record);
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => worker(w));
    let kills = 0;
    for (let round = 0; round < 8; round++) {
      await sleep(120);
      kills += await terminateSchemaConnections(schema);
    }
    running = false;
    await Promise.all(workers);
    console.log(`postgres kill test: ${kills} connections killed; ${outcome.created.length} creates and ` +
      `${outcome.increments} increments succeeded, ${outcome.unavailable} calls answered unavailable`);

    expect(outcome.other).toEqual([]);
    expect(kills).toBeGreaterThan(0);
    expect(outcome.unavailable).toBeGreaterThan(0);
    await store.ping(); // back by itself
    const stored = new Set((await store.refreshTokens.list()).map((t) => t.id));
    expect(outcome.created.filter((id) => !stored.has(id))).toEqual([]);
    const counted = (await store.refreshTokens.get('counter'))!.lastUsedAt - NOW;
    // An increment whose reply was lost may have committed; none that succeeded may be missing.
    expect(counted).toBeGreaterThanOrEqual(outcome.increments);
    expect(counted).toBeLessThanOrEqual(outcome.increments + outcome.unavailable);
  });

  it('during a database restart answers "unavailable" (ping too), then serves again by itself with data intact', async () => {
    const target = new URL(TEST_POSTGRES_URL);
    const proxy = await startPostgresProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const store = await open({ host: '127.0.0.1', port: proxy.port, connectionTimeout: 2 });
      await store.clients.create(client('app'));
      await proxy.down();
      await expectStorageError(store.ping(), 'unavailable');
      await expectStorageError(store.clients.get('app'), 'unavailable');
      await expectStorageError(store.clients.create(client('other')), 'unavailable');
      await proxy.up();
      await store.ping();
      expect(await store.clients.get('app')).toEqual(client('app'));
      expect(await store.clients.get('other')).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });

  it('fails a call as unavailable when the server stops answering (a silent partition), then serves on a fresh connection', async () => {
    const target = new URL(TEST_POSTGRES_URL);
    const proxy = await startPostgresProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const store = await open({ host: '127.0.0.1', port: proxy.port }, 300);
      await store.clients.create(client('app'));
      proxy.freeze();
      const started = performance.now();
      const reading = store.clients.get('app');
      await expectStorageError(reading, 'unavailable');
      await expect(reading).rejects.toThrow(/^PostgreSQL is unavailable \(get clients\): Query read timeout$/);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(await store.clients.get('app')).toEqual(client('app'));
    } finally {
      await proxy.close();
    }
  });
});
