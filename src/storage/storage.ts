/**
 * The storage seam: typed records with compare-and-swap updates and expiries, shared by every backend.
 * Backends (memory, sqlite, postgres) implement the small `RecordBackend`; `createStorage` turns one
 * into the typed `Storage` the rest of idgate uses. Nothing here knows about OIDC, login or the filter.
 * The record types live in kinds/, by area; every name is re-exported here, the one path to import.
 */
import type { EpochMs } from './epoch-ms.js';
import type { AuthCode, AuthRequest, DeviceRequest, PushedAuthRequest, SamlRequest } from './kinds/authorization.js';
import type { MFACredentials } from './kinds/mfa.js';
import type { Client, ConnectorRecord, Password } from './kinds/registrations.js';
import type { LoginFailures, UsedId } from './kinds/replay-and-throttle.js';
import type { Consent, ConsoleSession, LoginSession } from './kinds/sessions.js';
import type { RefreshToken, Revocation, SigningKeys } from './kinds/tokens.js';
import type { TrafficReport } from './kinds/traffic.js';

export type { EpochMs } from './epoch-ms.js';
export type {
  AuthCode, AuthRequest, DeviceRequest, MFAProgress, ParkedLogin, PushedAuthRequest, SamlRequest, StoredIdentity,
} from './kinds/authorization.js';
export type { MFACredentials, TOTPCredential, WebAuthnCredentialRecord } from './kinds/mfa.js';
export type { Client, ClientMetadata, ConnectorRecord, Password } from './kinds/registrations.js';
export type { LoginFailures, UsedId } from './kinds/replay-and-throttle.js';
export type { Consent, ConsoleSession, LoginSession } from './kinds/sessions.js';
export { grantKey, grantTagOfJti, issuedBeforeRevocation, subjectKey, type JsonWebKey, type RefreshToken, type Revocation, type SigningKeys } from './kinds/tokens.js';
export type { TrafficEdgeCounts, TrafficReport } from './kinds/traffic.js';
export { RECORD_KINDS, type RawRecord, type RecordBackend, type RecordKind } from './record-backend.js';
export { AlreadyExistsError, NotFoundError, StorageError, StorageUnavailableError } from './errors.js';

export interface Collection<T extends { id: string }> {
  /** The record, or undefined if absent or expired. */
  get(id: string): Promise<T | undefined>;
  /** Inserts; throws AlreadyExistsError if the ID is taken. */
  create(record: T): Promise<void>;
  /**
   * Atomic compare-and-swap: reads, applies `updater`, writes only if nobody wrote in between, and
   * retries otherwise (so `updater` may run more than once and must be pure). Throws NotFoundError.
   * An updater may throw to abort; that error propagates and nothing is written.
   */
  update(id: string, updater: (current: T) => T | Promise<T>, options?: UpdateOptions<T>): Promise<T>;
  /** True if something was deleted. */
  delete(id: string): Promise<boolean>;
  /** Atomic get-and-delete: of two concurrent calls, exactly one gets the record. */
  take(id: string): Promise<T | undefined>;
  /** Non-expired records, optionally only those whose index key equals `index`. */
  list(filter?: { index?: string }): Promise<T[]>;
}

export interface UpdateOptions<T> {
  /**
   * A record this collection's `get` returned, not changed since: while the stored record is still
   * exactly what it was decoded from, the first attempt hands it to the updater instead of decoding the
   * same data again (a large record costs a JSON.parse). The read and the compare-and-swap happen as
   * without it; another record, or one written meanwhile, is simply not used.
   */
  basis?: T;
}

export interface Storage {
  clients: Collection<Client>;
  authRequests: Collection<AuthRequest>;
  authCodes: Collection<AuthCode>;
  deviceRequests: Collection<DeviceRequest>;
  pushedAuthRequests: Collection<PushedAuthRequest>;
  refreshTokens: Collection<RefreshToken>;
  passwords: Collection<Password>;
  keys: Collection<SigningKeys>;
  connectors: Collection<ConnectorRecord>;
  samlRequests: Collection<SamlRequest>;
  usedIds: Collection<UsedId>;
  revocations: Collection<Revocation>;
  loginFailures: Collection<LoginFailures>;
  mfaCredentials: Collection<MFACredentials>;
  loginSessions: Collection<LoginSession>;
  consents: Collection<Consent>;
  consoleSessions: Collection<ConsoleSession>;
  trafficReports: Collection<TrafficReport>;
  /** Records "seen" once: true the first time, false if already present and unexpired. */
  markUsed(namespace: string, id: string, expiresAt: EpochMs): Promise<boolean>;
  /** Throws if the backend is unreachable (readiness). */
  ping(): Promise<void>;
  /** Deletes every expired record; returns how many per kind. */
  gc(now: EpochMs): Promise<Record<string, number>>;
  close(): Promise<void>;
}
