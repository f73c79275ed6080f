/**
 * Storage with a span per operation (tracing on): one span for each collection call, markUsed, ping
 * and gc, named `storage <kind>.<operation>`, whatever the backend (memory, SQLite, PostgreSQL), so a
 * request's trace shows every storage round trip it made. Attributes name the backend, the record
 * kind and the operation, never a record id (an id may be an authorization code or a token hash).
 * Operations outside a traced request (key rotation, GC timers) make no spans of their own.
 */
import { SpanKind, type Tracing } from '../telemetry/tracing.js';
import { RECORD_KINDS, type Collection, type RecordKind, type Storage } from './storage.js';

export function traceStorage(storage: Storage, tracing: Tracing, system: string): Storage {
  const operation = <T>(kind: string, name: string, run: () => Promise<T>): Promise<T> =>
    tracing.inSpan(`storage ${kind === '' ? name : `${kind}.${name}`}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': system, 'db.operation.name': name, ...(kind === '' ? {} : { 'db.collection.name': kind }) },
    }, run);
  const collection = <T extends { id: string }>(kind: RecordKind, inner: Collection<T>): Collection<T> => ({
    get: (id) => operation(kind, 'get', () => inner.get(id)),
    create: (record) => operation(kind, 'create', () => inner.create(record)),
    update: (id, updater, options) => operation(kind, 'update', () => inner.update(id, updater, options)),
    delete: (id) => operation(kind, 'delete', () => inner.delete(id)),
    take: (id) => operation(kind, 'take', () => inner.take(id)),
    list: (filter) => operation(kind, 'list', () => inner.list(filter)),
  });
  const collections = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, collection(kind, storage[kind] as Collection<{ id: string }>)]));
  return {
    ...(collections as Pick<Storage, RecordKind>),
    markUsed: (namespace, id, expiresAt) => operation('usedIds', 'markUsed', () => storage.markUsed(namespace, id, expiresAt)),
    ping: () => operation('', 'ping', () => storage.ping()),
    gc: (now) => operation('', 'gc', () => storage.gc(now)),
    close: () => storage.close(),
  };
}
