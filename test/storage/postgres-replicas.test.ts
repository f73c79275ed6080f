// Two replicas (two separate pools) on one schema: compare-and-swap and take hold across processes.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import { createStorage } from '../../src/storage/records.js';
import type { Storage } from '../../src/storage/storage.js';
import { authCode, refreshToken } from './fixtures.js';
import { dropSchema, randomSchemaName, requirePostgres, testConfig } from './postgres-helpers.js';

beforeAll(requirePostgres);

let schema: string;
let replicas: Storage[];
const NOW = Date.UTC(2026, 0, 1);

beforeEach(async () => {
  schema = randomSchemaName();
  const backends = await Promise.all([1, 2].map(() => createPostgresBackend(testConfig(schema, { maxOpenConns: 4 }))));
  replicas = backends.map((backend) => createStorage(backend, { now: () => NOW }));
});

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.close()));
  await dropSchema(schema);
});

describe('postgres: two replicas on one database', () => {
  it('loses no update when both replicas hammer the same record with compare-and-swap', async () => {
    const [a, b] = replicas as [Storage, Storage];
    await a.refreshTokens.create(refreshToken('family', NOW));
    const writersPerReplica = 25;
    const increment = (replica: Storage) =>
      replica.refreshTokens.update('family', (token) => ({ ...token, lastUsedAt: token.lastUsedAt + 1 }));
    const started = performance.now();
    await Promise.all(Array.from({ length: writersPerReplica }, () => [increment(a), increment(b)]).flat());
    const elapsed = performance.now() - started;
    console.log(`postgres CAS: ${2 * writersPerReplica} contended updates over two pools in ${elapsed.toFixed(0)} ms`);
    expect((await b.refreshTokens.get('family'))?.lastUsedAt).toBe(NOW + 2 * writersPerReplica);
  });

  it('hands an authorization code to exactly one replica when both take it at once', async () => {
    const [a, b] = replicas as [Storage, Storage];
    for (let round = 0; round < 20; round++) {
      await a.authCodes.create(authCode(`code-${round}`, NOW));
      const results = await Promise.all([a.authCodes.take(`code-${round}`), b.authCodes.take(`code-${round}`)]);
      expect(results.filter((result) => result !== undefined)).toHaveLength(1);
    }
  });

  it('says "first use" to exactly one replica when both mark the same ID', async () => {
    const [a, b] = replicas as [Storage, Storage];
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all([a.markUsed('jti', `j${round}`, NOW + 1000), b.markUsed('jti', `j${round}`, NOW + 1000)]);
      expect(results.sort()).toEqual([false, true]);
    }
  });

  it('keeps deployments in different schemas of one database apart', async () => {
    const elsewhere = randomSchemaName();
    const other = createStorage(await createPostgresBackend(testConfig(elsewhere)), { now: () => NOW });
    try {
      await other.refreshTokens.create(refreshToken('t1', NOW));
      expect(await replicas[0]!.refreshTokens.get('t1')).toBeUndefined();
      await replicas[0]!.refreshTokens.create(refreshToken('t1', NOW, 'user-2'));
      expect((await other.refreshTokens.get('t1'))?.identity.userId).toBe('user-1');
    } finally {
      await other.close();
      await dropSchema(elsewhere);
    }
  });

  it('sees on one replica what the other committed, at once (no cache between them)', async () => {
    const [a, b] = replicas as [Storage, Storage];
    await a.refreshTokens.create(refreshToken('t1', NOW, 'user-9'));
    expect((await b.refreshTokens.list({ index: 'user-9' })).map((t) => t.id)).toEqual(['t1']);
    await b.refreshTokens.delete('t1');
    expect(await a.refreshTokens.get('t1')).toBeUndefined();
  });
});
