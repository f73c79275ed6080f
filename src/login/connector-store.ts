/**
 * The storage a connector is given (ConnectorStore) over idgate's storage: outgoing SAML request IDs
 * in storage.samlRequests (taken once, so a response answers its request at most once) and the
 * replay cache in storage.markUsed, namespaced by connector.
 */
import type { ConnectorStore } from '../connector.js';
import type { Storage } from '../storage/storage.js';

export function createConnectorStore(storage: Storage, connectorId: string, now: () => number = Date.now): ConnectorStore {
  const recordId = (requestId: string) => `${connectorId}:${requestId}`;
  return {
    async saveRequest(requestId, authRequestId, expiresAt) {
      await storage.samlRequests.create({ id: recordId(requestId), connectorId, authRequestId, createdAt: now(), expiresAt });
    },
    async takeRequest(requestId) {
      const record = await storage.samlRequests.take(recordId(requestId));
      return record && record.connectorId === connectorId ? { authRequestId: record.authRequestId } : undefined;
    },
    markUsed(namespace, id, expiresAt) {
      return storage.markUsed(`${connectorId}:${namespace}`, id, expiresAt);
    },
  };
}
