/**
 * A ConnectorContext for connector tests (silent logger, in-memory store, injectable clock), and
 * `refusal`, which awaits the ConnectorError a refused call must throw.
 */
import { pino } from 'pino';
import { expect } from 'vitest';
import { ConnectorError, type ConnectorContext } from '../../src/connector.js';
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

/** Awaits a promise that must fail with a ConnectorError, and returns that error. */
export async function refusal(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}
