/**
 * The seam a backend (memory, sqlite, postgres) implements: opaque JSON rows per record kind, with
 * versions for compare-and-swap, an index column and an expiry. records.ts builds `Storage` on it.
 */
import type { EpochMs } from './epoch-ms.js';

export type RecordKind =
  | 'clients'
  | 'authRequests'
  | 'authCodes'
  | 'deviceRequests'
  | 'pushedAuthRequests'
  | 'refreshTokens'
  | 'passwords'
  | 'keys'
  | 'connectors'
  | 'samlRequests'
  | 'usedIds'
  | 'revocations'
  | 'loginFailures'
  | 'mfaCredentials'
  | 'loginSessions'
  | 'consents'
  | 'consoleSessions'
  | 'trafficReports';

export const RECORD_KINDS: readonly RecordKind[] = [
  'clients', 'authRequests', 'authCodes', 'deviceRequests', 'pushedAuthRequests', 'refreshTokens', 'passwords', 'keys', 'connectors',
  'samlRequests', 'usedIds', 'revocations', 'loginFailures', 'mfaCredentials', 'loginSessions', 'consents', 'consoleSessions', 'trafficReports',
];

/** One stored row as a backend sees it: opaque JSON plus the columns it must index. */
export interface RawRecord {
  id: string;
  /** Incremented on every write; the CAS token. */
  version: number;
  /** Secondary lookup key (e.g. the user ID of a refresh token), or null. */
  indexKey: string | null;
  expiresAt: EpochMs | null;
  data: string;
}

/**
 * What a backend implements. All methods are atomic. `now` is passed in so expiry is testable
 * without sleeping: a record with expiresAt <= now is treated as absent.
 */
export interface RecordBackend {
  get(kind: RecordKind, id: string, now: EpochMs): Promise<RawRecord | undefined>;
  /** False if a record with that ID exists (an expired one is replaced). */
  insert(kind: RecordKind, record: RawRecord, now: EpochMs): Promise<boolean>;
  /** Writes only if the stored version equals `expectedVersion`; false otherwise. */
  replace(kind: RecordKind, record: RawRecord, expectedVersion: number): Promise<boolean>;
  delete(kind: RecordKind, id: string): Promise<boolean>;
  take(kind: RecordKind, id: string, now: EpochMs): Promise<RawRecord | undefined>;
  list(kind: RecordKind, index: string | undefined, now: EpochMs): Promise<RawRecord[]>;
  gc(now: EpochMs): Promise<Record<string, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
