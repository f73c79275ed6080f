/**
 * A ConnectorContext for connector tests: silent logger, in-memory store, injectable clock.
 */
import { pino } from 'pino';
import type { ConnectorContext } from '../../src/connector.js';
import { MemoryConnectorStore } from './memory-store.js';

export function testContext(id: string, options: { issuer?: string; now?: () => number } = {}): ConnectorContext & { store: MemoryConnectorStore } {
  const now = options.now ?? Date.now;
  return {
    id,
    name: id,
    issuer: options.issuer ?? 'http://127.0.0.1:5556/dex',
    logger: pino({ level: 'silent' }),
    store: new MemoryConnectorStore(now),
    now,
  };
}
