// Secrets sealed at rest (src/storage/sealing.ts): the conformance suite holds with sealing on, the
// secret fields never reach the SQLite file or the PostgreSQL table in clear, a wrong or missing key
// is a clear error, and a storage key rotates while another replica keeps serving.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { openStorage, type StorageConfig } from '../../src/storage/open.js';
import { createStorage } from '../../src/storage/records.js';
import { createSealer, parseSealingKey, sealFields, unsealFields, type SealingKey } from '../../src/storage/sealing.js';
import { runStorageConformance } from './conformance.js';
import { adminClient, dropSchema, randomSchemaName, TEST_POSTGRES_URL } from './postgres-helpers.js';
import { connector, refreshToken, signingKeys } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'idgate-sealing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const newKey = (id: string): SealingKey & { file: string } => {
  const key = randomBytes(32);
  const file = join(dir, `${id}-${randomBytes(4).toString('hex')}.key`);
  writeFileSync(file, `${key.toString('base64')}\n`);
  return { id, key, file };
};
const keysConfig = (...keys: Array<{ id: string; file: string }>) => ({ keys: keys.map((key) => ({ id: key.id, keyFile: key.file })) });

const UPSTREAM_SECRET = 'upstream-refresh-token-7f3a9c';
const PRIVATE_D = 'private-exponent-d-5b1e0a';
const BIND_PASSWORD = 'ldap-bind-password-42';
const connectorData = Buffer.from(JSON.stringify({ refreshToken: UPSTREAM_SECRET })).toString('base64');

/** Records whose secret fields the tests look for in the raw database. */
function secretRecords(now: number) {
  const keys = signingKeys(now);
  return {
    keys: { ...keys, signingKey: { ...keys.signingKey!, d: PRIVATE_D } },
    refreshToken: { ...refreshToken('family-1', now), connectorData },
    connector: { ...connector('ldap'), type: 'ldap', config: { host: 'ldap.example.com:636', bindPW: BIND_PASSWORD } },
  };
}

runStorageConformance('memory, sealed', async (now) => ({
  storage: createStorage(createMemoryBackend(), { now, sealer: createSealer([{ id: 'k1', key: randomBytes(32) }]) }),
}));

describe('sealing', () => {
  const sealer = createSealer([{ id: 'k1', key: randomBytes(32) }]);

  it('seals only the secret fields, and opens them again', () => {
    const record = { ...refreshToken('family-1', Date.now()), connectorData };
    const sealed = sealFields('refreshTokens', record, sealer);
    expect(sealed.connectorData).toMatch(/^sealed:v1:k1:[A-Za-z0-9_-]+$/);
    expect(JSON.stringify(sealed)).not.toContain(connectorData);
    expect(sealed.identity).toEqual(record.identity);
    expect(unsealFields('refreshTokens', sealed, sealer)).toEqual(record);
  });

  it('refuses a sealed value moved to another record or field', () => {
    const sealed = sealFields('refreshTokens', { ...refreshToken('family-1', Date.now()), connectorData }, sealer);
    const moved = { ...refreshToken('family-2', Date.now()), connectorData: sealed.connectorData };
    expect(() => unsealFields('refreshTokens', moved, sealer)).toThrow(/refreshTokens\/family-2\/connectorData: cannot be unsealed with storage key "k1"/);
    expect(() => unsealFields('authCodes', { id: 'family-1', connectorData: sealed.connectorData }, sealer)).toThrow(/cannot be unsealed/);
  });

  it('refuses a value sealed under another key with the same id, an unknown key id, and no sealer at all', () => {
    const sealed = sealFields('refreshTokens', { ...refreshToken('f', Date.now()), connectorData }, sealer);
    expect(() => unsealFields('refreshTokens', sealed, createSealer([{ id: 'k1', key: randomBytes(32) }]))).toThrow(/a different key under the same id, or the value was altered/);
    expect(() => unsealFields('refreshTokens', sealed, createSealer([{ id: 'k9', key: randomBytes(32) }]))).toThrow(/sealed with storage key "k1", which is not configured/);
    expect(() => unsealFields('refreshTokens', sealed, undefined)).toThrow(/sealed with storage key "k1", but storage.sealing is not configured/);
    const altered = { ...sealed, connectorData: `${sealed.connectorData.slice(0, -4)}AAAA` };
    expect(() => unsealFields('refreshTokens', altered, sealer)).toThrow(/value was altered/);
  });

  it('takes a 32-byte key in base64 or base64url, and names the problem otherwise', () => {
    const key = randomBytes(32);
    expect(parseSealingKey(` ${key.toString('base64')}\n`, 'k')).toEqual(key);
    expect(parseSealingKey(key.toString('base64url'), 'k')).toEqual(key);
    expect(() => parseSealingKey(randomBytes(16).toString('base64'), 'storage.sealing.keys[0] (k1)')).toThrow(/storage.sealing.keys\[0\] \(k1\): the storage key must be 32 bytes.*got 16 bytes/);
    expect(() => parseSealingKey('not a key!', 'k')).toThrow(/got no base64/);
  });
});

describe('sealing on SQLite', () => {
  it('keeps every secret out of the database file, and reads it back only with the key', async () => {
    const file = join(dir, `sealed-${randomBytes(4).toString('hex')}.db`);
    const k1 = newKey('k1');
    const config: StorageConfig = { type: 'sqlite3', config: { file }, sealing: keysConfig(k1) };
    const now = Date.now();
    const records = secretRecords(now);
    const storage = await openStorage(config);
    await storage.keys.create(records.keys);
    await storage.refreshTokens.create(records.refreshToken);
    await storage.connectors.create(records.connector);
    await storage.close();

    const db = new Database(file, { readonly: true });
    const rows = db.prepare('SELECT kind, data FROM records').all() as Array<{ kind: string; data: string }>;
    db.close();
    expect(rows.map((row) => row.kind).sort()).toEqual(['connectors', 'keys', 'refreshTokens']);
    const everything = `${rows.map((row) => row.data).join('\n')}\n${readFileSync(file, 'latin1')}`;
    for (const secret of [PRIVATE_D, connectorData, UPSTREAM_SECRET, BIND_PASSWORD]) expect(everything).not.toContain(secret);
    // What is not secret stays readable: the public key and the user index.
    expect(everything).toContain('"signingKeyPub"');
    expect(everything).toContain('"userId":"user-1"');

    const reopened = await openStorage(config);
    expect(await reopened.keys.get('signing')).toEqual(records.keys);
    expect(await reopened.refreshTokens.get('family-1')).toEqual(records.refreshToken);
    expect(await reopened.connectors.get('ldap')).toEqual(records.connector);
    await reopened.close();

    const unsealed = await openStorage({ type: 'sqlite3', config: { file } });
    await expect(unsealed.keys.get('signing')).rejects.toThrow(/keys\/signing\/signingKey: sealed with storage key "k1", but storage.sealing is not configured/);
    await unsealed.close();
    const wrong = await openStorage({ type: 'sqlite3', config: { file }, sealing: { keys: [{ id: 'k1', keyFile: newKey('k1').file }] } });
    await expect(wrong.refreshTokens.get('family-1')).rejects.toThrow(/cannot be unsealed with storage key "k1"/);
    await wrong.close();
  });

  it('names a missing key file, an unset variable and a malformed key when opening', async () => {
    const file = join(dir, 'never.db');
    await expect(openStorage({ type: 'sqlite3', config: { file }, sealing: { keys: [{ id: 'k1', keyFile: join(dir, 'absent.key') }] } }))
      .rejects.toThrow(/storage.sealing.keys\[0\] \(k1\).keyFile: cannot read .*absent.key: file not found/);
    await expect(openStorage({ type: 'sqlite3', config: { file }, sealing: { keys: [{ id: 'k1', keyEnv: 'IDGATE_TEST_NO_SUCH_KEY' }] } }, { env: {} }))
      .rejects.toThrow(/keyEnv: environment variable IDGATE_TEST_NO_SUCH_KEY is not set/);
    await expect(openStorage({ type: 'sqlite3', config: { file }, sealing: { keys: [{ id: 'k1', keyEnv: 'K' }] } }, { env: { K: 'c2hvcnQ=' } }))
      .rejects.toThrow(/must be 32 bytes.*got 5 bytes/);
  });

  it('seals records written before sealing was configured when the key is rotated in', async () => {
    const file = join(dir, `legacy-${randomBytes(4).toString('hex')}.db`);
    const records = secretRecords(Date.now());
    const plain = await openStorage({ type: 'sqlite3', config: { file } });
    await plain.refreshTokens.create(records.refreshToken);
    await plain.close();
    const k1 = newKey('k1');
    const configFile = join(dir, 'legacy.yaml');
    writeFileSync(configFile, `issuer: http://127.0.0.1:5556/dex\nstorage:\n  type: sqlite3\n  config: { file: ${file} }\n  sealing:\n    keys: [{ id: k1, keyFile: ${k1.file} }]\nweb: { http: 127.0.0.1:5556 }\n`);
    const out: string[] = [];
    const io = { stdout: (text: string) => void out.push(text), stderr: (text: string) => void out.push(text) };
    // Readable before the rotation (a clear value passes), sealed after it.
    const sealed = await openStorage({ type: 'sqlite3', config: { file }, sealing: keysConfig(k1) });
    expect(await sealed.refreshTokens.get('family-1')).toEqual(records.refreshToken);
    expect(await main(['keys', 'rotate-storage-key', '--config', configFile, '--dry-run'], io)).toBe(0);
    expect(out.join('')).toMatch(/would re-seal with key "k1": 1 record\(s\) \(1 refreshTokens\)/);
    expect(await main(['keys', 'rotate-storage-key', '--config', configFile], io)).toBe(0);
    expect(out.join('')).toMatch(/re-sealed with key "k1": 1 record\(s\) \(1 refreshTokens\)/);
    expect(readFileSync(file, 'latin1')).not.toContain(UPSTREAM_SECRET);
    expect(await sealed.refreshTokens.get('family-1')).toEqual(records.refreshToken);
    expect(await main(['keys', 'rotate-storage-key', '--config', configFile], io)).toBe(0);
    expect(out.at(-1)).toMatch(/nothing to do/);
    await sealed.close();
  });
});

describe('sealing on PostgreSQL: key rotation while another replica serves', () => {
  it('rotates from k1 to k2 with replica B never restarted, and leaves nothing sealed by k1', async () => {
    const schema = randomSchemaName();
    const k1 = newKey('k1');
    const k2 = newKey('k2');
    const base = { type: 'postgres' as const, config: { connectionString: TEST_POSTGRES_URL, schema } };
    try {
      // Step 1 (done before): both replicas know both keys, B still seals with k1. A was restarted with k2 first.
      const replicaB = await openStorage({ ...base, sealing: keysConfig(k1, k2) });
      const replicaA = await openStorage({ ...base, sealing: keysConfig(k2, k1) });
      const records = secretRecords(Date.now());
      await replicaB.keys.create(records.keys);
      await replicaB.refreshTokens.create(records.refreshToken);
      await replicaA.connectors.create(records.connector);
      expect(await replicaA.keys.get('signing')).toEqual(records.keys);
      expect(await replicaB.connectors.get('ldap')).toEqual(records.connector);

      const sealedWith = async () => {
        const client = await adminClient();
        try {
          const { rows } = await client.query<{ data: string }>(`SELECT data FROM "${schema}".records`);
          const text = rows.map((row) => row.data).join('\n');
          for (const secret of [PRIVATE_D, connectorData, UPSTREAM_SECRET, BIND_PASSWORD]) expect(text).not.toContain(secret);
          return { k1: (text.match(/sealed:v1:k1:/g) ?? []).length, k2: (text.match(/sealed:v1:k2:/g) ?? []).length };
        } finally {
          await client.end();
        }
      };
      expect(await sealedWith()).toEqual({ k1: 3, k2: 1 }); // signingKey, nextKey, connectorData by B; the connector config by A

      const configFile = join(dir, `pg-${schema}.yaml`);
      writeFileSync(configFile, `issuer: http://127.0.0.1:5556/dex\nstorage:\n  type: postgres\n  config: { connectionString: "${TEST_POSTGRES_URL}", schema: ${schema} }\n  sealing:\n    keys:\n      - { id: k2, keyFile: ${k2.file} }\n      - { id: k1, keyFile: ${k1.file} }\nweb: { http: 127.0.0.1:5556 }\n`);
      const out: string[] = [];
      const code = await main(['keys', 'rotate-storage-key', '--config', configFile], { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t) });
      expect({ code, out: out.join('') }).toEqual({ code: 0, out: expect.stringMatching(/re-sealed with key "k2": 2 record\(s\) \(1 keys, 1 refreshTokens\)/) });
      expect(await sealedWith()).toEqual({ k1: 0, k2: 4 });

      // B, not restarted, still reads everything; once every replica seals with k2, k1 can go.
      expect(await replicaB.keys.get('signing')).toEqual(records.keys);
      expect(await replicaB.refreshTokens.get('family-1')).toEqual(records.refreshToken);
      const onlyK2 = await openStorage({ ...base, sealing: keysConfig(k2) });
      expect(await onlyK2.refreshTokens.get('family-1')).toEqual(records.refreshToken);
      expect(await onlyK2.keys.get('signing')).toEqual(records.keys);
      await Promise.all([replicaA.close(), replicaB.close(), onlyK2.close()]);
    } finally {
      await dropSchema(schema);
    }
  });
});
