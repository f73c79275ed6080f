/**
 * `idgate keys rotate-storage-key --config FILE [--dry-run]`: re-seals, with the first key of
 * storage.sealing, every stored secret that is in clear or sealed by an older key, so the older key
 * can then be removed from the config. Safe while replicas serve: each record is rewritten by
 * compare-and-swap, and a replica that still seals with an older key (one not restarted yet) writes
 * values every configured key can open; run the command again once every replica has the new key first.
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { openBackend, sealerFor } from '../storage/open.js';
import { resealRecords } from '../storage/records.js';
import { needsResealing, SEALED_FIELDS, type Sealer } from '../storage/sealing.js';
import type { RecordBackend, RecordKind } from '../storage/storage.js';

export interface KeysIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const KEYS_USAGE = `Usage:
  idgate keys rotate-storage-key --config FILE [--dry-run]

Re-seals every secret in storage (signing keys, upstream tokens, runtime connector configs) with the
first key of storage.sealing.keys. Put the new key first in every replica's config, restart them one
by one, run this, then remove the old key. --dry-run counts what would be re-sealed and writes nothing.
`;

export async function runKeysCommand(args: string[], io: KeysIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args, options: { config: { type: 'string', short: 'c' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true, strict: true,
  });
  if (values.help) {
    io.stdout(KEYS_USAGE);
    return 0;
  }
  const [action, ...extra] = positionals;
  const usage = (message: string) => {
    io.stderr(`idgate keys: ${message}\n\n${KEYS_USAGE}`);
    return 2;
  };
  if (action !== 'rotate-storage-key') return usage(action ? `unknown action "${action}"` : 'an action is required');
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  if (!values.config) return usage('--config FILE is required');

  const config = await loadConfigFile(values.config);
  if (config.storage.type === 'memory') {
    io.stderr('idgate keys: storage type memory lives inside the serving process; there is nothing stored to re-seal\n');
    return 1;
  }
  const sealer = sealerFor(config.storage);
  if (!sealer) {
    io.stderr('idgate keys: storage.sealing is not configured; add a key first (docs/storage.md#sealing)\n');
    return 1;
  }
  const backend = await openBackend(config.storage, undefined);
  try {
    if (values['dry-run']) {
      const counts = await countStale(backend, sealer);
      io.stdout(`would re-seal with key "${sealer.writeKeyId}": ${describe(counts)}\n`);
      return 0;
    }
    const counts = await resealRecords(backend, sealer);
    io.stdout(`re-sealed with key "${sealer.writeKeyId}": ${describe(counts)}\n`);
    return 0;
  } finally {
    await backend.close();
  }
}

async function countStale(backend: RecordBackend, sealer: Sealer): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const kind of Object.keys(SEALED_FIELDS) as RecordKind[]) {
    const rows = await backend.list(kind, undefined, Date.now());
    counts[kind] = rows.filter((row) => needsResealing(kind, JSON.parse(row.data) as object, sealer)).length;
  }
  return counts;
}

function describe(counts: Record<string, number>): string {
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind}`);
  return total === 0 ? 'nothing to do (every secret is sealed with it already)' : `${total} record(s) (${parts.join(', ')})`;
}
