/**
 * The in-memory backend: one Map per record kind. Every method runs synchronously inside its promise, so
 * each is atomic by construction; records are copied in and out so callers never share stored objects.
 * Nothing persists across restarts (storage.type: memory).
 */
import {
  RECORD_KINDS, StorageUnavailableError, type EpochMs, type RawRecord, type RecordBackend, type RecordKind,
} from './storage.js';

function isLive(record: RawRecord, now: EpochMs): boolean {
  return record.expiresAt === null || record.expiresAt > now;
}

export function createMemoryBackend(): RecordBackend {
  const tables = new Map<RecordKind, Map<string, RawRecord>>(RECORD_KINDS.map((kind) => [kind, new Map()]));
  let closed = false;

  function table(kind: RecordKind): Map<string, RawRecord> {
    if (closed) throw new StorageUnavailableError('memory storage is closed');
    const rows = tables.get(kind);
    if (!rows) throw new TypeError(`unknown record kind ${String(kind)}`);
    return rows;
  }

  return {
    async get(kind, id, now) {
      const row = table(kind).get(id);
      return row && isLive(row, now) ? { ...row } : undefined;
    },

    async insert(kind, record, now) {
      const rows = table(kind);
      const existing = rows.get(record.id);
      if (existing && isLive(existing, now)) return false;
      // Replacing an expired row bumps past its version, so a stale CAS token can never match the new row.
      const version = existing ? Math.max(record.version, existing.version + 1) : record.version;
      rows.set(record.id, { ...record, version });
      return true;
    },

    async replace(kind, record, expectedVersion) {
      const rows = table(kind);
      const existing = rows.get(record.id);
      if (!existing || existing.version !== expectedVersion) return false;
      rows.set(record.id, { ...record });
      return true;
    },

    async delete(kind, id) {
      return table(kind).delete(id);
    },

    async take(kind, id, now) {
      const rows = table(kind);
      const row = rows.get(id);
      if (!row || !isLive(row, now)) return undefined;
      rows.delete(id);
      return { ...row };
    },

    async list(kind, index, now) {
      const result: RawRecord[] = [];
      for (const row of table(kind).values()) {
        if (isLive(row, now) && (index === undefined || row.indexKey === index)) result.push({ ...row });
      }
      return result;
    },

    async gc(now) {
      const counts: Record<string, number> = {};
      for (const kind of RECORD_KINDS) {
        const rows = table(kind);
        for (const [id, row] of rows) {
          if (!isLive(row, now)) {
            rows.delete(id);
            counts[kind] = (counts[kind] ?? 0) + 1;
          }
        }
      }
      return counts;
    },

    async ping() {
      if (closed) throw new StorageUnavailableError('memory storage is closed');
    },

    async close() {
      closed = true;
      for (const rows of tables.values()) rows.clear();
    },
  };
}
