// The PostgreSQL backend passes the storage conformance suite, each test in a fresh schema dropped afterwards.
import { beforeAll } from 'vitest';
import { createPostgresBackend } from '../../src/storage/postgres.js';
import { createStorage } from '../../src/storage/records.js';
import { runStorageConformance } from './conformance.js';
import { dropSchema, randomSchemaName, requirePostgres, testConfig } from './postgres-helpers.js';

beforeAll(requirePostgres);

runStorageConformance('postgres', async (now) => {
  const schema = randomSchemaName();
  const backend = await createPostgresBackend(testConfig(schema));
  return { storage: createStorage(backend, { now }), cleanup: () => dropSchema(schema) };
});
