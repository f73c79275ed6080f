// The in-memory backend passes the storage conformance suite.
import { createMemoryBackend } from '../../src/storage/memory.js';
import { createStorage } from '../../src/storage/records.js';
import { runStorageConformance } from './conformance.js';

runStorageConformance('memory', async (now) => ({ storage: createStorage(createMemoryBackend(), { now }) }));
