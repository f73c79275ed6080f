// The in-memory backend passes the storage conformance suite.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { runStorageConformance } from './conformance.js';

runStorageConformance('memory', async (now) => ({ storage: createStorage(createMemoryBackend(), { now }) }));

describe('memory backend', () => {
  it('copies rows in and out, so a caller changing a row changes nothing stored', async () => {
    const backend = createMemoryBackend();
    const row = { id: 'a', version: 1, indexKey: null, expiresAt: null, data: '{"id":"a"}' };
    await backend.insert('clients', row, 0);
    row.data = 'changed';
    const got = await backend.get('clients', 'a', 0);
    got!.version = 99;
    expect(await backend.get('clients', 'a', 0)).toEqual({ id: 'a', version: 1, indexKey: null, expiresAt: null, data: '{"id":"a"}' });
  });
});
