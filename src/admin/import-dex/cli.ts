/**
 * `idgate import dex --config FILE --from sqlite3:PATH|postgres://... [--schema NAME] [--dry-run]
 * [--skip-existing] [--dex-id-tokens DURATION]`: reads a Dex SQL database and writes its clients,
 * passwords, connectors, refresh tokens and signing keys into the storage the config names, so the
 * same people keep the same `sub` and stay signed in. Nothing is written when a record already exists
 * in idgate's storage, unless --skip-existing says to leave those and import the rest.
 */
import { parseArgs } from 'node:util';
import type { Clock } from '../../clock.js';
import { parseDuration } from '../../config/duration.js';
import { loadConfigFile, type Config } from '../../config/load.js';
import { createSigner } from '../../keys/signer.js';
import { openStorage } from '../../storage/open.js';
import type { Storage } from '../../storage/storage.js';
import { silentLogger } from '../../telemetry/logger.js';
import { applyPlan } from './apply.js';
import { planImport, type EntityKind, type ImportPlan, type Skipped } from './plan.js';
import { readDexDatabase, type DexDatabase } from './read.js';
import { formatPlan } from './report.js';
import { DexImportError, EXIT_CODES, openDexSource, parseFrom, type DexLocation } from './source.js';

export interface ImportIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const IMPORT_USAGE = `Usage:
  idgate import dex --config FILE --from SOURCE [--schema NAME] [--dry-run] [--skip-existing]
                    [--dex-id-tokens DURATION]

Reads Dex's SQL storage and writes its clients, passwords, connectors, refresh tokens and signing keys
into the storage FILE names (sqlite3 or postgres), so users keep their sub and stay signed in.

  --from sqlite3:PATH        Dex's storage.type sqlite3 file (opened read-only)
  --from postgres://...      Dex's storage.type postgres database (libpq URL parameters such as sslmode)
  --schema NAME              the PostgreSQL schema holding Dex's tables (default public)
  --dry-run                  print what would be imported (counts and IDs, never secrets); write nothing
  --skip-existing            leave records that already exist in idgate's storage and import the rest
                             (without it, any such conflict means nothing is written)
  --dex-id-tokens DURATION   Dex's expiry.idTokens (default 24h): Dex's current signing key stays in
                             idgate's /keys this long, so every token Dex signed with it still verifies

Stop Dex first. Clients, passwords and connectors that FILE defines statically stay as FILE says.
Exit codes: 0 done, 1 config or idgate storage problem, 2 usage, 3 conflicts (nothing written),
4 Dex database unreadable or unreachable, 5 not a Dex database, 6 unsupported Dex schema version.
`;

class UsageError extends Error {}

interface ImportArgs {
  configFile: string;
  from: DexLocation;
  schema?: string;
  dryRun: boolean;
  skipExisting: boolean;
  dexTokenLifetime: number;
}

function parseImportArgs(args: string[]): ImportArgs {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      from: { type: 'string' },
      schema: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'skip-existing': { type: 'boolean', default: false },
      'dex-id-tokens': { type: 'string', default: '24h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.config) throw new UsageError('--config FILE is required');
  if (!values.from) throw new UsageError('--from SOURCE is required (sqlite3:PATH or postgres://...)');
  const from = parseFrom(values.from);
  if (!from) throw new UsageError(`--from: "${values.from}" is neither sqlite3:PATH nor a postgres:// URL`);
  if (values.schema !== undefined && from.kind !== 'postgres') throw new UsageError('--schema applies to a postgres:// source only');
  const dexTokenLifetime = parseDuration(values['dex-id-tokens']);
  if (dexTokenLifetime === undefined) throw new UsageError(`--dex-id-tokens: "${values['dex-id-tokens']}" is not a duration (e.g. 24h)`);
  return {
    configFile: values.config, from, dryRun: values['dry-run'], skipExisting: values['skip-existing'], dexTokenLifetime,
    ...(values.schema !== undefined ? { schema: values.schema } : {}),
  };
}

async function readDex(parsed: ImportArgs): Promise<{ db: DexDatabase; label: string }> {
  const source = await openDexSource(parsed.from, parsed.schema);
  try {
    return { db: await readDexDatabase(source), label: source.label };
  } finally {
    await source.close();
  }
}

function refuseMemoryStorage(config: Config): void {
  if (config.storage.type === 'memory') {
    throw new Error('storage type memory lives inside the serving process; import into sqlite3 or postgres storage');
  }
}

/** idgate's own signing keys, created as `serve` creates them (buildIssuer's signer options). */
async function createSigningKeys(storage: Storage, config: Config, now: Clock): Promise<void> {
  const signer = await createSigner(storage, {
    algorithm: config.signer.config.algorithm,
    rotationPeriod: config.keysRotationPeriod,
    tokenLifetime: Math.max(config.expiry.idTokens, config.expiry.accessTokens),
    now,
    logger: silentLogger(),
  });
  signer.stop();
}

/** The plan as it was carried out: what someone else wrote meanwhile moves to the conflicts. */
function withoutRaced(plan: ImportPlan, raced: Skipped[]): ImportPlan {
  const kept = (kind: EntityKind) => <T extends { id: string }>(record: T) => !raced.some((entry) => entry.kind === kind && entry.id === record.id);
  return {
    ...plan,
    clients: plan.clients.filter(kept('client')),
    passwords: plan.passwords.filter(kept('password')),
    connectors: plan.connectors.filter(kept('connector')),
    refreshTokens: plan.refreshTokens.filter(kept('refresh token')),
    keys: plan.keys.filter((key) => kept('key')({ id: key.publicKey.kid })),
    conflicts: [...plan.conflicts, ...raced],
  };
}

interface ImportRun {
  parsed: ImportArgs;
  config: Config;
  storage: Storage;
  /** The Dex database, for the report. */
  label: string;
  now: Clock;
  io: ImportIo;
}

/** Writes `plan` (or, for a dry run or when conflicts stop it, only reports it); returns the exit code. */
async function importInto(plan: ImportPlan, { parsed, config, storage, label, now, io }: ImportRun): Promise<number> {
  const conflicts = plan.conflicts.length;
  if (parsed.dryRun || (conflicts > 0 && !parsed.skipExisting)) {
    io.stdout(formatPlan(plan, label, 'dry-run'));
    if (conflicts > 0 && !parsed.skipExisting) {
      io.stderr(`idgate import dex: ${conflicts} conflict(s) with idgate's storage; nothing ${parsed.dryRun ? 'would be' : 'was'} written (--skip-existing leaves them and imports the rest)\n`);
      return EXIT_CODES.conflicts;
    }
    io.stdout('dry run: nothing written\n');
    return 0;
  }
  const raced = await applyPlan(plan, storage, { createSigningKeys: () => createSigningKeys(storage, config, now) });
  io.stdout(formatPlan(withoutRaced(plan, raced), label, 'applied'));
  if (conflicts > 0) io.stdout(`${conflicts} conflict(s) left as they are in idgate's storage (--skip-existing)\n`);
  if (raced.length > 0 && !parsed.skipExisting) {
    io.stderr(`idgate import dex: ${raced.length} record(s) appeared in idgate's storage during the import and were left as they are; the rest was imported\n`);
    return EXIT_CODES.conflicts;
  }
  return 0;
}

export async function runImportDexCommand(args: string[], io: ImportIo, now: Clock = Date.now): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(IMPORT_USAGE);
    return 0;
  }
  let parsed: ImportArgs;
  try {
    parsed = parseImportArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    io.stderr(`idgate import dex: ${(error as Error).message}\n\n${IMPORT_USAGE}`);
    return EXIT_CODES.usage;
  }
  const config = await loadConfigFile(parsed.configFile);
  refuseMemoryStorage(config);
  let dex: { db: DexDatabase; label: string };
  try {
    dex = await readDex(parsed);
  } catch (error) {
    if (!(error instanceof DexImportError)) throw error;
    io.stderr(`idgate import dex: ${error.message}\n`);
    return EXIT_CODES[error.code];
  }
  const storage = await openStorage(config.storage);
  try {
    const plan = await planImport(dex.db, config, storage, { now: now(), dexTokenLifetime: parsed.dexTokenLifetime });
    return await importInto(plan, { parsed, config, storage, label: dex.label, now, io });
  } finally {
    await storage.close();
  }
}

/** `idgate import <source> ...`; Dex is the one source so far. */
export async function runImportCommand(args: string[], io: ImportIo): Promise<number> {
  const [source, ...rest] = args;
  if (source === 'dex') return runImportDexCommand(rest, io);
  if (source === undefined || source === '--help' || source === '-h' || source === 'help') {
    io.stdout(IMPORT_USAGE);
    return source === undefined ? EXIT_CODES.usage : 0;
  }
  io.stderr(`idgate import: unknown source "${source}" (known: dex)\n\n${IMPORT_USAGE}`);
  return EXIT_CODES.usage;
}
