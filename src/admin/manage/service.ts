/**
 * What the management operations share, whoever calls them (Dex's gRPC API in admin/api/, the
 * `idgate clients|passwords|connectors` commands): their dependencies, the error for bad input, and
 * the audit record every change leaves. Not-found and already-exists are answers, not errors, as in
 * Dex's API (`not_found` / `already_exists` flags); a config-file entry refuses every change with
 * StorageError('read_only') from the static overlay below.
 */
import type { Config } from '../../config/load.js';
import { StorageError, type Storage } from '../../storage/storage.js';
import type { AuditLog, AuditOutcome } from '../../telemetry/audit.js';

export interface ManagementDeps {
  /** Storage with the config file's clients, passwords and connectors laid over it (withConfigEntries). */
  storage: Storage;
  config: Config;
  /** The issuer's audit stream; the caller scopes it to who asked (`within` with an actor). */
  audit: AuditLog;
  now: () => number;
  /** Called after a stored connector changed, so this process opens or closes it at once. */
  connectorsChanged?: () => Promise<void>;
}

/** A value the caller sent cannot be used; `field` is its name as the caller spelled it. */
export class InvalidArgumentError extends Error {
  readonly code = 'invalid_argument';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidArgumentError';
  }
}

/** What a change answered, for its audit line. */
export type ChangeResult = { alreadyExists?: boolean; notFound?: boolean };

function refusalReason(error: unknown): string {
  if (error instanceof InvalidArgumentError) return error.code;
  if (error instanceof StorageError) return error.code;
  return 'internal';
}

/**
 * Runs `change` and writes one audit event `type`: succeeded, or refused with `already_exists`,
 * `not_found`, `invalid_argument`, `read_only`, `unavailable` or `internal`. Errors are rethrown.
 */
export async function auditedChange<T extends ChangeResult>(
  deps: Pick<ManagementDeps, 'audit'>,
  type: string,
  fields: Record<string, unknown>,
  change: () => Promise<T>,
): Promise<T> {
  const write = (outcome: AuditOutcome, reason?: string) => deps.audit.write({ event: type, outcome, ...(reason ? { reason } : {}), ...fields });
  let result: T;
  try {
    result = await change();
  } catch (error) {
    write('refused', refusalReason(error));
    throw error;
  }
  if (result.alreadyExists) write('refused', 'already_exists');
  else if (result.notFound) write('refused', 'not_found');
  else write('succeeded');
  return result;
}

/** True if `text` holds a control character (C0, DEL or C1). */
export function hasControlCharacter(text: string): boolean {
  return /\p{Cc}/u.test(text);
}

/** A copy of `values`, refusing an empty entry or one with control characters. */
export function stringList(field: string, values: readonly string[]): string[] {
  values.forEach((value, index) => {
    if (value === '' || hasControlCharacter(value)) throw new InvalidArgumentError(`${field}[${index}]`, 'must be a non-empty string without control characters');
  });
  return [...values];
}
