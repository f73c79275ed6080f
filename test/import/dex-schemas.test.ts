// The Dex schemas around v2.45: Dex v2.35-v2.44 (schema 11: passwords without groups or a name, rows
// with Dex's zero-time column defaults) and Dex master (schema 23: allowed connectors on clients, grant
// types on connectors, MFA settings idgate has no place for), on SQLite and PostgreSQL alike.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { openStorage, type StorageConfig } from '../../src/storage/open.js';
import type { RefreshFamily } from '../../src/oidc/token/refresh-family.js';
import { dropSchema, randomSchemaName, requirePostgres, testConfig, TEST_POSTGRES_URL } from '../storage/postgres-helpers.js';
import {
  createDexPostgres, createDexSqlite, encoded, insertClient, insertConnector, insertPassword, type DexDatabaseHandle,
} from './dex-database.js';

interface Target {
  dex: DexDatabaseHandle;
  fromArgs: string[];
  storage: StorageConfig;
  storageYaml: string;
  cleanup(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const flavors: Record<string, (version: number) => Promise<Target>> = {
  sqlite3: async (version) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'idgate-dex-schema-'));
    const file = path.join(dir, 'idgate.db');
    return {
      dex: await createDexSqlite(path.join(dir, 'dex.db'), version),
      fromArgs: ['--from', `sqlite3:${path.join(dir, 'dex.db')}`],
      storage: { type: 'sqlite3', config: { file } },
      storageYaml: `storage: {type: sqlite3, config: {file: ${file}}}`,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  postgres: async (version) => {
    await requirePostgres();
    const dexSchema = randomSchemaName();
    const idgateSchema = randomSchemaName();
    return {
      dex: await createDexPostgres(dexSchema, version),
      fromArgs: ['--from', TEST_POSTGRES_URL, '--schema', dexSchema],
      storage: { type: 'postgres', config: testConfig(idgateSchema) },
      storageYaml: `storage: {type: postgres, config: {connectionString: "${TEST_POSTGRES_URL}", schema: ${idgateSchema}}}`,
      async cleanup() {
        await dropSchema(dexSchema);
        await dropSchema(idgateSchema);
      },
    };
  },
};

async function importFrom(target: Target): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'idgate-dex-schema-config-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, 'idgate.yaml');
  await writeFile(configFile, `issuer: http://127.0.0.1:5556/dex\n${target.storageYaml}\nweb: {http: 127.0.0.1:5556}\nenablePasswordDB: true\n`);
  const out = { stdout: '', stderr: '' };
  const code = await main(['import', 'dex', '--config', configFile, ...target.fromArgs], {
    stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s),
  });
  return { code, ...out };
}

for (const [flavor, make] of Object.entries(flavors)) {
  describe(`Dex schemas on ${flavor}`, () => {
    it('reads Dex v2.35-v2.44 (schema 11): passwords without groups or name, and zero-time defaults', async () => {
      const target = await make(11);
      cleanups.push(() => target.cleanup());
      await insertPassword(target.dex, { email: 'Old@Example.com', hash: '$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W', username: 'old-user', userId: 'old-id' });
      // A token from before Dex kept times: created_at and last_used keep their column default.
      await target.dex.exec(
        `insert into refresh_token (id, client_id, scopes, nonce, claims_user_id, claims_username, claims_preferred_username,
          claims_email, claims_email_verified, claims_groups, connector_id, connector_data, token, obsolete_token)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);`,
        ['oldtoken', 'some-app', encoded(['openid', 'offline_access']), '', 'old-id', 'old-user', '', 'old@example.com', false, encoded(null), 'local', null, 'oldsecret', ''],
      );
      await target.dex.close();
      const before = Date.now();
      const result = await importFrom(target);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('schema version 11 (Dex v2.35.0 to v2.44.x)');
      expect(result.stdout).toContain('client some-app is neither in the config, nor imported, nor in storage; these sessions cannot refresh until it is: oldtoken');
      const storage = await openStorage(target.storage);
      try {
        const password = await storage.passwords.get('old@example.com');
        expect(password).toMatchObject({ email: 'old@example.com', username: 'old-user', userId: 'old-id' });
        expect(password).not.toHaveProperty('groups');
        expect(password).not.toHaveProperty('emailVerified');
        const family = (await storage.refreshTokens.get('oldtoken')) as RefreshFamily;
        expect(family.createdAt).toBeGreaterThanOrEqual(before);
        expect(family.lastUsedAt).toBe(family.createdAt);
        expect(family.identity).toEqual({ userId: 'old-id', username: 'old-user', email: 'old@example.com', emailVerified: false });
      } finally {
        await storage.close();
      }
    });

    it("reads Dex master (schema 23): allowed connectors and connector grant types carry over, MFA settings are named", async () => {
      const target = await make(23);
      cleanups.push(() => target.cleanup());
      await insertClient(target.dex, {
        id: 'mfa-app', secret: 'mfa-secret', redirectURIs: ['http://127.0.0.1:5555/mfa'], trustedPeers: ['peer-app'], public: false,
        name: 'MFA App', allowedConnectors: ['local'], mfaChain: ['totp'],
      });
      await insertConnector(target.dex, { id: 'dex-mock', type: 'mockCallback', name: 'Mock', config: {}, grantTypes: ['authorization_code'] });
      await target.dex.close();
      const result = await importFrom(target);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('schema version 23 (Dex master after v2.45.x)');
      expect(result.stdout).toContain('client mfa-app: mfa_chain not carried over (no such client setting in idgate)');
      const storage = await openStorage(target.storage);
      try {
        expect(await storage.clients.get('mfa-app')).toMatchObject({ allowedConnectors: ['local'], trustedPeers: ['peer-app'] });
        expect(await storage.connectors.get('dex-mock')).toMatchObject({ grantTypes: ['authorization_code'] });
      } finally {
        await storage.close();
      }
    });
  });
}
