/**
 * Writes an import plan into idgate's storage: every record with `create` (which never replaces what
 * exists), the verification keys into the signing-key record by compare-and-swap (creating idgate's
 * own keys first on a storage that has none). The sessions come last, once their clients, passwords
 * and connectors are in place. Returns what was found to exist meanwhile (written by someone else
 * since the plan was made), which is left as it is.
 */
import { AlreadyExistsError, type Collection, type Storage } from '../../storage/storage.js';
import { kidsOf, withVerificationKeys } from './keys.js';
import type { EntityKind, ImportPlan, Skipped } from './plan.js';

export interface ApplyOptions {
  /** Creates idgate's own signing-key record (as `serve` would) when storage has none yet. */
  createSigningKeys(): Promise<void>;
}

async function createAll<T extends { id: string }>(kind: EntityKind, collection: Collection<T>, records: T[], raced: Skipped[]): Promise<void> {
  for (const record of records) {
    try {
      await collection.create(record);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      raced.push({ kind, id: record.id, reason: "written to idgate's storage by someone else during the import" });
    }
  }
}

async function addKeys(plan: ImportPlan, storage: Storage, options: ApplyOptions, raced: Skipped[]): Promise<void> {
  if (plan.keys.length === 0) return;
  if (!(await storage.keys.get('signing'))) await options.createSigningKeys();
  let taken = new Set<string>();
  await storage.keys.update('signing', (current) => {
    taken = kidsOf(current);
    return withVerificationKeys(current, plan.keys);
  });
  for (const key of plan.keys.filter((entry) => taken.has(entry.publicKey.kid))) {
    raced.push({ kind: 'key', id: key.publicKey.kid, reason: "added to idgate's key set by someone else during the import" });
  }
}

export async function applyPlan(plan: ImportPlan, storage: Storage, options: ApplyOptions): Promise<Skipped[]> {
  const raced: Skipped[] = [];
  await addKeys(plan, storage, options, raced);
  await createAll('connector', storage.connectors, plan.connectors, raced);
  await createAll('client', storage.clients, plan.clients, raced);
  await createAll('password', storage.passwords, plan.passwords, raced);
  await createAll('refresh token', storage.refreshTokens, plan.refreshTokens, raced);
  return raced;
}
