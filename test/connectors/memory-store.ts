/**
 * An in-memory ConnectorStore for connector tests, with the semantics the storage-backed one has:
 * a request record is taken once and expires, an ID is "used" once until it expires.
 */
import type { ConnectorStore } from '../../src/connector.js';

export class MemoryConnectorStore implements ConnectorStore {
  readonly requests = new Map<string, { authRequestId: string; expiresAt: number }>();
  readonly used = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async saveRequest(requestId: string, authRequestId: string, expiresAt: number): Promise<void> {
    this.requests.set(requestId, { authRequestId, expiresAt });
  }

  async takeRequest(requestId: string): Promise<{ authRequestId: string } | undefined> {
    const record = this.requests.get(requestId);
    this.requests.delete(requestId);
    if (!record || record.expiresAt <= this.now()) return undefined;
    return { authRequestId: record.authRequestId };
  }

  async markUsed(namespace: string, id: string, expiresAt: number): Promise<boolean> {
    const key = `${namespace}:${id}`;
    const until = this.used.get(key);
    if (until !== undefined && until > this.now()) return false;
    this.used.set(key, expiresAt);
    return true;
  }
}
