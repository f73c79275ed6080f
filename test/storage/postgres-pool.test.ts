// The pool honours Dex's connection limits: maxOpenConns bounds connections, maxIdleConns bounds what stays open.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import type { RecordBackend } from '../../src/storage/storage.js';
import { adminClient, applicationNameFor, dropSchema, randomSchemaName, requirePostgres, testConfig } from './postgres-helpers.js';

beforeAll(requirePostgres);

let schema: string;
let backend: RecordBackend | undefined;

afterEach(async () => {
  await backend?.close();
  backend = undefined;
  await dropSchema(schema);
});

/** Server processes currently connected for the test schema's pool. */
async function openConnections(): Promise<number> {
  const admin = await adminClient();
  try {
    const result = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationNameFor(schema)]);
    return result.rows[0]!.n;
  } finally {
    await admin.end();
  }
}

async function settle(expected: number): Promise<number> {
  const deadline = Date.now() + 3000;
  let count = await openConnections();
  while (count !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    count = await openConnections();
  }
  return count;
}

describe('postgres pool limits', () => {
  it('never opens more than maxOpenConns connections, however many calls wait', async () => {
    schema = randomSchemaName();
    backend = await createPostgresBackend(testConfig(schema, { maxOpenConns: 3 }, true));
    const row = { id: 'app', version: 1, indexKey: null, expiresAt: null, data: '{}' };
    await backend.insert('clients', row, Date.now());
    const admin = await adminClient();
    try {
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".records WHERE id = 'app' FOR UPDATE`);
      const writes = Array.from({ length: 10 }, () => backend!.replace('clients', { ...row, version: 2 }, 1));
      await settle(3);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await openConnections()).toBe(3);
      await admin.query('ROLLBACK');
      expect((await Promise.all(writes)).filter(Boolean)).toHaveLength(1); // and CAS let exactly one through
    } finally {
      await admin.end();
    }
  });

  it.each([
    [1, 1],
    [4, 4],
    [0, 0],
  ])('keeps %i connection(s) open after a burst when maxIdleConns is %i', async (open, maxIdleConns) => {
    schema = randomSchemaName();
    backend = await createPostgresBackend(testConfig(schema, { maxOpenConns: 4, maxIdleConns }, true));
    await Promise.all(Array.from({ length: 24 }, () => backend!.list('clients', undefined, Date.now())));
    expect(await settle(open)).toBe(open);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await openConnections()).toBe(open);
    await backend.ping(); // and the pool still serves
  });
});
