/**
 * Second factors in real storage (SQLite on disk and PostgreSQL, sealed): the TOTP secret never
 * reaches the database in clear, and the rules that must hold under races do — of concurrent uses of
 * one TOTP step, one recovery code or one signature counter value, exactly one succeeds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addWebAuthnCredential, enrollTOTP, issueRecoveryCodes, useRecoveryCode, useTOTPStep, useWebAuthnCounter, type MFAUser,
} from '../../../src/sessions/mfa/credentials.js';
import type { MFAError } from '../../../src/sessions/mfa/errors.js';
import { newRecoveryCodes, recoveryCodeHash } from '../../../src/sessions/mfa/recovery-codes.js';
import { newTOTPSecret } from '../../../src/sessions/mfa/totp.js';
import { openStorage, type StorageConfig } from '../../../src/storage/open.js';
import type { Storage } from '../../../src/storage/storage.js';
import { adminClient, dropSchema, randomSchemaName, testConfig } from '../../storage/postgres-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'idgate-mfa-'));
const keyFile = join(dir, 'storage.key');
writeFileSync(keyFile, randomBytes(32).toString('base64'));
const sealing = { keys: [{ id: 'k1', keyFile }] };
const schemas: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const schema of schemas) await dropSchema(schema);
});

const user: MFAUser = { connectorId: 'local', userId: 'user-1' };

/** Of `attempts`, how many succeeded, and the codes of those that failed. */
async function race(attempts: Array<Promise<unknown>>): Promise<{ won: number; refused: string[] }> {
  const results = await Promise.allSettled(attempts);
  return {
    won: results.filter((r) => r.status === 'fulfilled').length,
    refused: results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as MFAError).code] : [])),
  };
}

function backends(): Array<[string, () => Promise<{ storage: Storage; raw: () => Promise<string> }>]> {
  return [
    ['sqlite', async () => {
      const file = join(dir, `${randomBytes(4).toString('hex')}.db`);
      const storage = await openStorage({ type: 'sqlite3', config: { file }, sealing } as StorageConfig);
      return { storage, raw: async () => readFileSync(file).toString('latin1') };
    }],
    ['postgres', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      const storage = await openStorage({ type: 'postgres', config: testConfig(schema), sealing } as StorageConfig);
      return {
        storage,
        raw: async () => {
          const admin = await adminClient();
          const rows = await admin.query(`SELECT data FROM "${schema}".records WHERE kind = 'mfaCredentials'`);
          await admin.end();
          return JSON.stringify(rows.rows);
        },
      };
    }],
  ];
}

describe.each(backends())('MFA credentials on %s', (_name, open) => {
  it('seals the TOTP secret at rest', async () => {
    const { storage, raw } = await open();
    const secret = newTOTPSecret();
    await enrollTOTP(storage, user, { authenticatorId: 'totp', secret, step: 100 }, Date.now());
    expect((await storage.mfaCredentials.get('CgZ1c2VyLTESBWxvY2Fs'))?.totp[0]?.secret).toBe(secret);
    expect(await raw()).not.toContain(secret);
    await storage.close();
  });

  it('lets one of concurrent uses of the same TOTP step through', async () => {
    const { storage } = await open();
    await enrollTOTP(storage, user, { authenticatorId: 'totp', secret: newTOTPSecret(), step: 100 }, Date.now());
    const outcome = await race(Array.from({ length: 6 }, () => useTOTPStep(storage, user, 'totp', 101, Date.now())));
    expect(outcome).toEqual({ won: 1, refused: Array(5).fill('code_reused') });
    await expect(useTOTPStep(storage, user, 'totp', 100, Date.now())).rejects.toMatchObject({ code: 'code_reused' });
    // Enrolling again (another tab, meanwhile) never replaces the secret.
    await expect(enrollTOTP(storage, user, { authenticatorId: 'totp', secret: newTOTPSecret(), step: 200 }, Date.now())).rejects.toMatchObject({ code: 'invalid_code' });
    await storage.close();
  });

  it('uses a recovery code at most once, however many try at once', async () => {
    const { storage } = await open();
    const { codes, hashes } = newRecoveryCodes(3);
    expect(await issueRecoveryCodes(storage, user, hashes, Date.now())).toBe(true);
    // A second enrollment's codes are not handed out over the first's.
    expect(await issueRecoveryCodes(storage, user, newRecoveryCodes(3).hashes, Date.now())).toBe(false);
    const outcome = await race(Array.from({ length: 4 }, () => useRecoveryCode(storage, user, recoveryCodeHash(codes[0]!), Date.now())));
    expect(outcome).toEqual({ won: 1, refused: Array(3).fill('invalid_code') });
    expect((await storage.mfaCredentials.get('CgZ1c2VyLTESBWxvY2Fs'))?.recoveryCodeHashes).toEqual(hashes.slice(1));
    await storage.close();
  });

  it('accepts a signature counter value once, and never one that went back', async () => {
    const { storage } = await open();
    const credential = { authenticatorId: 'key', credentialId: 'Y3JlZA', publicKey: 'cGs', counter: 10, createdAt: Date.now() };
    await addWebAuthnCredential(storage, user, 'aGFuZGxl', credential, Date.now());
    const outcome = await race(Array.from({ length: 5 }, () => useWebAuthnCounter(storage, user, 'Y3JlZA', 11, Date.now())));
    expect(outcome).toEqual({ won: 1, refused: Array(4).fill('counter_regression') });
    await expect(useWebAuthnCounter(storage, user, 'Y3JlZA', 9, Date.now())).rejects.toMatchObject({ code: 'counter_regression' });
    expect((await storage.mfaCredentials.get('CgZ1c2VyLTESBWxvY2Fs'))?.webauthn[0]?.counter).toBe(11);
    await storage.close();
  });

  it('accepts an authenticator that keeps no counter (0 every time) while the stored one is 0', async () => {
    const { storage } = await open();
    await addWebAuthnCredential(storage, user, 'aGFuZGxl', { authenticatorId: 'key', credentialId: 'emVybw', publicKey: 'cGs', counter: 0, createdAt: Date.now() }, Date.now());
    await useWebAuthnCounter(storage, user, 'emVybw', 0, Date.now());
    await useWebAuthnCounter(storage, user, 'emVybw', 0, Date.now());
    await expect(useWebAuthnCounter(storage, user, 'bm9uZQ', 1, Date.now())).rejects.toMatchObject({ code: 'unknown_credential' });
    await storage.close();
  });
});
