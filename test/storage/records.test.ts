// What createStorage adds on top of any backend: bounded CAS retries, the stored columns, and GC counts.
import { describe, expect, it, vi } from 'vitest';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage, indexKeyOf } from '../../src/storage/records.js';
import { RECORD_KINDS, type RecordBackend } from '../../src/storage/storage.js';
import { expectStorageError } from './conformance.js';
import { HOUR, authCode, client, consent, loginSession, refreshToken, revocation } from './fixtures.js';

describe('Collection.update against a backend that always loses the race', () => {
  it('gives up with conflict after maxUpdateAttempts, having run the updater that many times', async () => {
    const backend = createMemoryBackend();
    const storage = createStorage({ ...backend, replace: async () => false }, { maxUpdateAttempts: 4 });
    await storage.clients.create(client('app'));
    const updater = vi.fn((c: ReturnType<typeof client>) => ({ ...c, name: 'never written' }));
    await expectStorageError(storage.clients.update('app', updater), 'conflict');
    expect(updater).toHaveBeenCalledTimes(4);
    expect((await storage.clients.get('app'))?.name).toBe('Example App');
  });
});

describe('Collection.update with a basis', () => {
  it('does not decode the stored data again while it is what the basis was read from', async () => {
    const storage = createStorage(createMemoryBackend(), { now: () => 0 });
    await storage.refreshTokens.create(refreshToken('family', 0));
    const read = await storage.refreshTokens.get('family');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await storage.refreshTokens.update('family', (t) => ({ ...t, lastUsedAt: 1 }), { basis: read! });
      expect(parse).not.toHaveBeenCalled();
      await storage.refreshTokens.update('family', (t) => ({ ...t, lastUsedAt: 2 }), { basis: read! });
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
    expect((await storage.refreshTokens.get('family'))?.lastUsedAt).toBe(2);
  });
});

describe('the columns createStorage writes', () => {
  function recordingBackend() {
    const backend = createMemoryBackend();
    const insert = vi.spyOn(backend, 'insert');
    return { backend: backend as RecordBackend, insert };
  }

  it('stores expiresAt from the record, or null when the kind has none', async () => {
    const { backend, insert } = recordingBackend();
    const storage = createStorage(backend, { now: () => 0 });
    await storage.authCodes.create(authCode('c', 0));
    await storage.clients.create(client('app'));
    expect(insert.mock.calls.map(([kind, raw]) => [kind, raw.expiresAt, raw.version])).toEqual([
      ['authCodes', HOUR, 1],
      ['clients', null, 1],
    ]);
  });

  it('indexes refresh tokens and login sessions by identity.userId, revocations by userId, consents by subject, and nothing else', () => {
    expect(indexKeyOf('refreshTokens', refreshToken('f', 0, 'user-9'))).toBe('user-9');
    expect(indexKeyOf('revocations', revocation('s', 0, 'user-7'))).toBe('user-7');
    expect(indexKeyOf('revocations', { ...revocation('s', 0), userId: undefined })).toBeNull();
    expect(indexKeyOf('loginSessions', loginSession('s', 0, 'user-5'))).toBe('user-5');
    expect(indexKeyOf('consents', consent('c', 0, 'sub-3'))).toBe('sub-3');
    expect(indexKeyOf('authCodes', authCode('c', 0))).toBeNull();
    expect(indexKeyOf('clients', client('app'))).toBeNull();
  });
});

describe('Storage.gc', () => {
  it('reports every kind, zeros included, whatever subset the backend reports', async () => {
    const backend = createMemoryBackend();
    const storage = createStorage({ ...backend, gc: async () => ({ authCodes: 3 }) });
    const counts = await storage.gc(0);
    expect(Object.keys(counts).sort()).toEqual([...RECORD_KINDS].sort());
    expect(counts.authCodes).toBe(3);
    expect(counts.clients).toBe(0);
  });
});
