/**
 * Config-defined clients, passwords and connectors served on top of the stored ones (Dex's
 * WithStaticClients/Passwords/Connectors). Static entries win over stored ones with the same ID, come
 * back marked `static: true`, and cannot be created, updated, deleted or taken through storage.
 */
import { byId, indexKeyOf } from './records.js';
import {
  StorageError, type Client, type Collection, type ConnectorRecord, type Password, type RecordKind, type Storage,
} from './storage.js';

export interface StaticRecords {
  /** Client secrets must already be hashed (`hashSecret`). */
  clients?: Client[];
  passwords?: Password[];
  connectors?: ConnectorRecord[];
}

function overlay<T extends { id: string }>(kind: RecordKind, stored: Collection<T>, entries: T[] = []): Collection<T> {
  if (entries.length === 0) return stored;
  // Each entry kept as its JSON text (config entries are plain data), so every read hands out a fresh
  // copy, shaped as a stored record is, at the cost of one JSON.parse (a structuredClone costs more).
  const statics = new Map<string, string>();
  for (const entry of entries) {
    if (statics.has(entry.id)) throw new StorageError('already_exists', `static ${kind} ${entry.id} is defined twice`);
    statics.set(entry.id, JSON.stringify({ ...entry, static: true }));
  }
  const copyOf = (id: string): T | undefined => {
    const entry = statics.get(id);
    return entry === undefined ? undefined : (JSON.parse(entry) as T);
  };
  const refuse = (id: string): void => {
    if (statics.has(id)) throw new StorageError('read_only', `${kind} ${id} comes from the config file and cannot be changed`);
  };

  return {
    async get(id) {
      return copyOf(id) ?? stored.get(id);
    },
    async create(record) {
      refuse(record.id);
      return stored.create(record);
    },
    async update(id, updater, options) {
      refuse(id);
      return stored.update(id, updater, options);
    },
    async delete(id) {
      refuse(id);
      return stored.delete(id);
    },
    async take(id) {
      refuse(id);
      return stored.take(id);
    },
    async list(filter) {
      const fromStore = (await stored.list(filter)).filter((record) => !statics.has(record.id));
      const fromConfig = [...statics.keys()]
        .map((id) => copyOf(id) as T)
        .filter((record) => filter?.index === undefined || indexKeyOf(kind, record) === filter.index);
      return [...fromConfig, ...fromStore].sort(byId);
    },
  };
}

/** `storage` with the config file's entries layered on top; everything else passes through. */
export function withStatic(storage: Storage, records: StaticRecords): Storage {
  return {
    clients: overlay('clients', storage.clients, records.clients),
    authRequests: storage.authRequests,
    authCodes: storage.authCodes,
    deviceRequests: storage.deviceRequests,
    pushedAuthRequests: storage.pushedAuthRequests,
    refreshTokens: storage.refreshTokens,
    passwords: overlay('passwords', storage.passwords, records.passwords),
    keys: storage.keys,
    connectors: overlay('connectors', storage.connectors, records.connectors),
    samlRequests: storage.samlRequests,
    usedIds: storage.usedIds,
    revocations: storage.revocations,
    loginFailures: storage.loginFailures,
    mfaCredentials: storage.mfaCredentials,
    loginSessions: storage.loginSessions,
    consents: storage.consents,
    consoleSessions: storage.consoleSessions,
    trafficReports: storage.trafficReports,
    markUsed: (namespace, id, expiresAt) => storage.markUsed(namespace, id, expiresAt),
    ping: () => storage.ping(),
    gc: (now) => storage.gc(now),
    close: () => storage.close(),
  };
}
