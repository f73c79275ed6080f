/**
 * Secrets sealed at rest: the fields of stored records that hold secrets (signing private keys, the
 * upstream tokens in connectorData, runtime connector configs with their client secrets and bind
 * passwords) are written AES-256-GCM encrypted under the storage key, below every caller. Each sealed
 * value names the key that sealed it, so keys rotate without downtime: every configured key unseals,
 * the first one seals, and `idgate keys rotate-storage-key` re-seals what older keys sealed. The
 * additional data binds a ciphertext to its record kind, id and field, so a sealed value cannot be
 * moved to another record. Without the key nothing sealed can be read: a clear error, never a guess.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StorageError, type RecordKind } from './storage.js';

/** A key as configured: its id and where its 32 bytes (base64) come from. */
export interface SealingKeyConfig {
  id: string;
  keyFile?: string;
  keyEnv?: string;
}

export interface SealingKey {
  id: string;
  key: Buffer;
}

/** The fields of each kind that hold secrets. Every other field stays readable (and indexable). */
export const SEALED_FIELDS: Partial<Record<RecordKind, readonly string[]>> = {
  keys: ['signingKey', 'nextKey'],
  refreshTokens: ['connectorData'],
  authRequests: ['connectorData', 'mfa'],
  authCodes: ['connectorData'],
  deviceRequests: ['connectorData'],
  loginSessions: ['connectorData'],
  mfaCredentials: ['totp'],
  connectors: ['config'],
};

const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class SealingError extends StorageError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'SealingError';
  }
}

export interface Sealer {
  /** The id of the key new values are sealed with. */
  readonly writeKeyId: string;
  seal(value: unknown, context: string): string;
  unseal(sealed: string, context: string): unknown;
  /** The key id a sealed value names, or undefined if the value is not sealed. */
  keyIdOf(value: unknown): string | undefined;
}

/** Decodes a key's text: 32 bytes in standard or URL-safe base64, surrounding whitespace ignored. */
export function parseSealingKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    throw new SealingError(`${where}: the storage key must be 32 bytes, base64-encoded (e.g. openssl rand -base64 32); got ${key.length === 0 ? 'no base64' : `${key.length} bytes`}`);
  }
  return key;
}

/** Reads every configured key; a missing file, an unset variable or a malformed key is an error naming it. */
export function loadSealingKeys(keys: readonly SealingKeyConfig[], env: Record<string, string | undefined> = process.env): SealingKey[] {
  return keys.map((entry, index) => {
    const where = `storage.sealing.keys[${index}] (${entry.id})`;
    let text: string | undefined;
    if (entry.keyFile) {
      try {
        text = readFileSync(entry.keyFile, 'utf8');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
        throw new SealingError(`${where}.keyFile: cannot read ${entry.keyFile}: ${reason}`);
      }
    } else if (entry.keyEnv) {
      text = env[entry.keyEnv];
      if (!text) throw new SealingError(`${where}.keyEnv: environment variable ${entry.keyEnv} is not set`);
    }
    if (text === undefined) throw new SealingError(`${where}: set keyFile or keyEnv`);
    return { id: entry.id, key: parseSealingKey(text, where) };
  });
}

/** A sealer over `keys`; the first one seals. */
export function createSealer(keys: readonly SealingKey[]): Sealer {
  if (keys.length === 0) throw new SealingError('storage.sealing.keys: at least one key is needed');
  const byId = new Map(keys.map((key) => [key.id, key.key]));
  const writer = keys[0]!;
  return {
    writeKeyId: writer.id,
    seal(value, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', writer.key, iv);
      cipher.setAAD(Buffer.from(`${writer.id}\n${context}`));
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${writer.id}:${Buffer.concat([iv, body]).toString('base64url')}`;
    },
    unseal(sealed, context) {
      const keyId = keyIdOf(sealed);
      const key = keyId === undefined ? undefined : byId.get(keyId);
      if (keyId === undefined) throw new SealingError(`${context}: not a sealed value`);
      if (!key) throw new SealingError(`${context}: sealed with storage key "${keyId}", which is not configured (storage.sealing.keys)`);
      const raw = Buffer.from(sealed.slice(PREFIX.length + keyId.length + 1), 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SealingError(`${context}: the sealed value is truncated`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(`${keyId}\n${context}`));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
        return JSON.parse(text) as unknown;
      } catch {
        throw new SealingError(`${context}: cannot be unsealed with storage key "${keyId}" (a different key under the same id, or the value was altered)`);
      }
    },
    keyIdOf,
  };
}

function keyIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(PREFIX)) return undefined;
  const end = value.indexOf(':', PREFIX.length);
  const keyId = end < 0 ? '' : value.slice(PREFIX.length, end);
  return KEY_ID.test(keyId) ? keyId : undefined;
}

const contextOf = (kind: RecordKind, id: string, field: string) => `${kind}/${id}/${field}`;

/** `record` with its secret fields sealed (a copy; fields already sealed or absent are left as they are). */
export function sealFields<T extends { id: string }>(kind: RecordKind, record: T, sealer: Sealer | undefined): T {
  const fields = SEALED_FIELDS[kind];
  if (!sealer || !fields) return record;
  let copy: Record<string, unknown> | undefined;
  for (const field of fields) {
    const value = (record as Record<string, unknown>)[field];
    if (value === undefined || sealer.keyIdOf(value) !== undefined) continue;
    copy ??= { ...record };
    copy[field] = sealer.seal(value, contextOf(kind, record.id, field));
  }
  return (copy ?? record) as T;
}

/**
 * `record` with its sealed fields opened. A value stored before sealing was configured passes as it is
 * (rotate-storage-key seals it); a sealed value without a sealer is an error, never returned sealed.
 */
export function unsealFields<T extends { id: string }>(kind: RecordKind, record: T, sealer: Sealer | undefined): T {
  const fields = SEALED_FIELDS[kind];
  if (!fields) return record;
  let copy: Record<string, unknown> | undefined;
  for (const field of fields) {
    const value = (record as Record<string, unknown>)[field];
    const keyId = sealer?.keyIdOf(value) ?? keyIdOf(value);
    if (keyId === undefined) continue;
    if (!sealer) throw new SealingError(`${contextOf(kind, record.id, field)}: sealed with storage key "${keyId}", but storage.sealing is not configured`);
    copy ??= { ...record };
    copy[field] = sealer.unseal(value as string, contextOf(kind, record.id, field));
  }
  return (copy ?? record) as T;
}

/** True if `record` has a secret field that is unsealed or sealed by another key than the writer's. */
export function needsResealing(kind: RecordKind, record: object, sealer: Sealer): boolean {
  return (SEALED_FIELDS[kind] ?? []).some((field) => {
    const value = (record as Record<string, unknown>)[field];
    return value !== undefined && sealer.keyIdOf(value) !== sealer.writeKeyId;
  });
}
