/** The storage a connector is given: SAML request records answered at most once, a namespaced replay cache. */
import { describe, expect, it } from 'vitest';
import { createConnectorStore } from '../../src/login/connector-store.js';
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';

const later = Date.now() + 60_000;

describe('connector store', () => {
  it('hands a saved request back once, with its auth request', async () => {
    const store = createConnectorStore(createStorage(createMemoryBackend()), 'saml');
    await store.saveRequest('_id1', 'req-1', later);
    expect(await store.takeRequest('_id1')).toEqual({ authRequestId: 'req-1' });
    expect(await store.takeRequest('_id1')).toBeUndefined();
  });

  it("does not hand one connector another connector's request", async () => {
    const storage = createStorage(createMemoryBackend());
    await createConnectorStore(storage, 'saml-a').saveRequest('_id1', 'req-1', later);
    expect(await createConnectorStore(storage, 'saml-b').takeRequest('_id1')).toBeUndefined();
    expect(await createConnectorStore(storage, 'saml-a').takeRequest('_id1')).toEqual({ authRequestId: 'req-1' });
  });

  it('forgets a request once it expires', async () => {
    let now = 1_000;
    const storage = createStorage(createMemoryBackend(), { now: () => now });
    const store = createConnectorStore(storage, 'saml', () => now);
    await store.saveRequest('_id1', 'req-1', 2_000);
    now = 2_000;
    expect(await store.takeRequest('_id1')).toBeUndefined();
  });

  it('reports a replay the second time an id is seen, per connector', async () => {
    const storage = createStorage(createMemoryBackend());
    const a = createConnectorStore(storage, 'a');
    expect(await a.markUsed('assertion', 'x1', later)).toBe(true);
    expect(await a.markUsed('assertion', 'x1', later)).toBe(false);
    expect(await createConnectorStore(storage, 'b').markUsed('assertion', 'x1', later)).toBe(true);
  });
});
