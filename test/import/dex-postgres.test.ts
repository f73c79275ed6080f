// `idgate import dex --from postgres://... --schema NAME`: Dex's postgres storage, built with Dex's
// schema in a schema of its own on 127.0.0.1:5432/test, moved into idgate's PostgreSQL storage (in
// another schema; see dex-import.ts for the specification).
import { openStorage } from '../../src/storage/open.js';
import { adminClient, dropSchema, randomSchemaName, requirePostgres, testConfig, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';
import { createDexPostgres } from './dex-database.js';
import { describeDexImport } from './dex-import.js';

describeDexImport('postgres', async () => {
  await requirePostgres();
  const dexSchema = randomSchemaName();
  const idgateSchema = randomSchemaName();
  return {
    dex: await createDexPostgres(dexSchema),
    fromArgs: ['--from', TEST_POSTGRES_URL, '--schema', dexSchema],
    storageYaml: `storage:\n  type: postgres\n  config:\n    connectionString: ${TEST_POSTGRES_URL}\n    schema: ${idgateSchema}`,
    openStorage: () => openStorage({ type: 'postgres', config: testConfig(idgateSchema) }),
    async rawRecords() {
      const client = await adminClient();
      try {
        const exists = await client.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [idgateSchema, 'records']);
        if (exists.rowCount === 0) return [];
        return (await client.query<{ data: string }>(`SELECT data FROM "${idgateSchema}".records`)).rows.map((row) => row.data);
      } finally {
        await client.end();
      }
    },
    async cleanup() {
      await dropSchema(dexSchema);
      await dropSchema(idgateSchema);
    },
  };
});
