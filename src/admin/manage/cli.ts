/**
 * `idgate clients|passwords|connectors list|create|update|delete --config FILE ...`: the management
 * operations of Dex's gRPC API from a shell, over the same code (admin/manage/) and the same storage
 * the serving replicas use, so there is no second implementation to drift. Config-file entries are
 * read-only here too. Every change is written to the issuer's audit stream with origin `admin-cli`
 * and the local user as actor. Exit codes: 0 done, 1 refused or failed, 2 usage, 3 not found,
 * 4 already exists, 5 read-only (from the config file).
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile, type Config } from '../../config/load.js';
import { withConfigEntries } from '../../issuer.js';
import { openStorage } from '../../storage/open.js';
import { StorageError } from '../../storage/storage.js';
import { commandRequest, openAuditStream } from '../../telemetry/audit.js';
import { createClient, deleteClient, listClients, updateClient, type ClientView } from './clients.js';
import { createConnector, deleteConnector, listConnectors, updateConnector, type ConnectorView } from './connectors.js';
import { createPassword, deletePassword, listPasswords, updatePassword, type PasswordView } from './passwords.js';
import { ALLOWED, COMMON_USAGE, flagField, MANAGE_USAGE, OPTIONS, type ManagedKind } from './cli-usage.js';
import { InvalidArgumentError, type ManagementDeps } from './service.js';

export interface ManageIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The whole of standard input (for --password-stdin); process.stdin by default. */
  stdin?: () => Promise<string>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, alreadyExists: 4, readOnly: 5 } as const;

/** The bcrypt cost of hashes made from --password-stdin: Dex's recommended cost. */
const CLI_BCRYPT_COST = 12;

class UsageError extends Error {}

type Values = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

function required(values: Values, name: 'id' | 'email' | 'user-id' | 'type' | 'name' | 'connector-config'): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The bcrypt hash from --hash, or made from the password on stdin (its final line break dropped). */
async function passwordHash(values: Values, io: ManageIo): Promise<string | undefined> {
  if (values.hash !== undefined && values['password-stdin']) throw new UsageError('give --hash or --password-stdin, not both');
  if (!values['password-stdin']) return values.hash;
  const password = (await (io.stdin ?? readStdin)()).replace(/\r?\n$/, '');
  if (!password) throw new UsageError('--password-stdin: standard input held no password');
  return bcrypt.hash(password, CLI_BCRYPT_COST);
}

/** The JSON text of a connector config file, JSON or YAML. */
async function connectorConfig(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError('--connector-config', `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
  }
  try {
    return JSON.stringify(parseYaml(text) as unknown);
  } catch (error) {
    throw new InvalidArgumentError('--connector-config', `${file}: not JSON or YAML (${(error as Error).message})`);
  }
}

function table(rows: string[][]): string {
  return rows.map((row) => `${row.join('\t')}\n`).join('');
}

function describeClient(client: ClientView): string[] {
  return [client.id, client.public ? 'public' : 'confidential', client.name, client.redirectURIs.join(',') || '-', client.static ? 'config-file' : 'stored'];
}

function describePassword(entry: PasswordView): string[] {
  return [entry.email, entry.username || '-', entry.userId, entry.static ? 'config-file' : 'stored'];
}

function describeConnector(connector: ConnectorView): string[] {
  return [connector.id, connector.type, connector.name, connector.grantTypes.join(',') || 'all grants', connector.static ? 'config-file' : 'stored'];
}

/** The exit code of an answer that carries Dex's flags. */
function flagged(io: ManageIo, result: { alreadyExists?: boolean; notFound?: boolean }, what: string, done: string): number {
  if (result.alreadyExists) {
    io.stderr(`idgate: ${what} already exists\n`);
    return EXIT.alreadyExists;
  }
  if (result.notFound) {
    io.stderr(`idgate: ${what} not found\n`);
    return EXIT.notFound;
  }
  io.stdout(`${done}\n`);
  return EXIT.ok;
}

async function runClients(action: string, values: Values, deps: ManagementDeps, io: ManageIo): Promise<number> {
  const lists = {
    ...(values['redirect-uri'] ? { redirectURIs: values['redirect-uri'] } : {}),
    ...(values['trusted-peer'] ? { trustedPeers: values['trusted-peer'] } : {}),
    ...(values['allowed-connector'] ? { allowedConnectors: values['allowed-connector'] } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values['logo-url'] ? { logoURL: values['logo-url'] } : {}),
  };
  switch (action) {
    case 'list': {
      const clients = await listClients(deps);
      io.stdout(values.json ? `${JSON.stringify(clients, null, 2)}\n` : table(clients.map(describeClient)));
      return EXIT.ok;
    }
    case 'create': {
      const result = await createClient(deps, { ...lists, ...(values.id ? { id: values.id } : {}), ...(values.secret ? { secret: values.secret } : {}), public: values.public ?? false });
      if (result.alreadyExists) return flagged(io, result, `client "${values.id}"`, '');
      io.stdout(`created client ${result.client.id}\n${result.secret !== null ? `secret: ${result.secret}\n` : ''}`);
      return EXIT.ok;
    }
    case 'update': {
      const id = required(values, 'id');
      return flagged(io, await updateClient(deps, id, lists), `client "${id}"`, `updated client ${id}`);
    }
    default: {
      const id = required(values, 'id');
      return flagged(io, await deleteClient(deps, id), `client "${id}"`, `deleted client ${id}`);
    }
  }
}

async function runPasswords(action: string, values: Values, deps: ManagementDeps, io: ManageIo): Promise<number> {
  switch (action) {
    case 'list': {
      const entries = await listPasswords(deps);
      io.stdout(values.json ? `${JSON.stringify(entries, null, 2)}\n` : table(entries.map(describePassword)));
      return EXIT.ok;
    }
    case 'create': {
      const email = required(values, 'email');
      const userId = required(values, 'user-id');
      const hash = await passwordHash(values, io);
      if (!hash) throw new UsageError('give --hash BCRYPT or --password-stdin');
      return flagged(io, await createPassword(deps, { email, userId, hash, username: values.username ?? '' }), `password entry "${email}"`, `created password entry ${email}`);
    }
    case 'update': {
      const email = required(values, 'email');
      const hash = await passwordHash(values, io);
      const changes = { ...(hash ? { hash } : {}), ...(values.username ? { username: values.username } : {}) };
      return flagged(io, await updatePassword(deps, email, changes), `password entry "${email}"`, `updated password entry ${email}`);
    }
    default: {
      const email = required(values, 'email');
      return flagged(io, await deletePassword(deps, email), `password entry "${email}"`, `deleted password entry ${email}`);
    }
  }
}

async function runConnectors(action: string, values: Values, deps: ManagementDeps, io: ManageIo): Promise<number> {
  switch (action) {
    case 'list': {
      const connectors = await listConnectors(deps);
      const shown = connectors.map(({ config, ...rest }) => ({ ...rest, ...(config !== undefined ? { config: JSON.parse(config) as unknown } : {}) }));
      io.stdout(values.json ? `${JSON.stringify(shown, null, 2)}\n` : table(connectors.map(describeConnector)));
      return EXIT.ok;
    }
    case 'create': {
      const id = required(values, 'id');
      const input = {
        id, type: required(values, 'type'), name: required(values, 'name'),
        config: await connectorConfig(required(values, 'connector-config')),
        grantTypes: values['grant-type'] ?? [],
      };
      return flagged(io, await createConnector(deps, input), `connector "${id}"`, `created connector ${id}`);
    }
    case 'update': {
      const id = required(values, 'id');
      if (values['all-grant-types'] && values['grant-type']) throw new UsageError('give --grant-type or --all-grant-types, not both');
      const changes = {
        ...(values.type ? { type: values.type } : {}),
        ...(values.name ? { name: values.name } : {}),
        ...(values['connector-config'] ? { config: await connectorConfig(values['connector-config']) } : {}),
        ...(values['grant-type'] ? { grantTypes: values['grant-type'] } : values['all-grant-types'] ? { grantTypes: [] } : {}),
      };
      return flagged(io, await updateConnector(deps, id, changes), `connector "${id}"`, `updated connector ${id}`);
    }
    default: {
      const id = required(values, 'id');
      return flagged(io, await deleteConnector(deps, id), `connector "${id}"`, `deleted connector ${id}`);
    }
  }
}

const RUNNERS: Record<ManagedKind, typeof runClients> = { clients: runClients, passwords: runPasswords, connectors: runConnectors };

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

async function openManagement(config: Config, io: ManageIo): Promise<{ deps: ManagementDeps; close(): Promise<void> }> {
  if (config.storage.type === 'memory') {
    throw new InvalidArgumentError('storage.type', 'memory lives inside the serving process; manage it through the gRPC API (grpc:), or use sqlite3 or postgres storage');
  }
  const storage = withConfigEntries(await openStorage(config.storage), config);
  // stdout is the command's answer, so the audit stream's stdout lines go to stderr.
  const stream = openAuditStream(config.audit, Date.now, { write: (line) => io.stderr(line) });
  const request = commandRequest('admin-cli', localUser());
  const audit = { write: (event: Parameters<typeof stream.write>[0]) => stream.within(request, () => stream.write(event)), within: stream.within };
  return {
    deps: { storage, config, audit, now: Date.now },
    async close() {
      await storage.close();
      await stream.end();
    },
  };
}

export async function runManageCommand(kind: ManagedKind, args: string[], io: ManageIo): Promise<number> {
  const usage = `${MANAGE_USAGE[kind]}${COMMON_USAGE}`;
  if (args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    io.stdout(usage);
    return EXIT.ok;
  }
  let action: string;
  let values: Values;
  try {
    const parsed = parse(args);
    values = parsed.values;
    const [first, ...extra] = parsed.positionals;
    if (!first || !(first in ALLOWED[kind])) throw new UsageError(first ? `unknown action "${first}"` : 'an action is required (list, create, update or delete)');
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    action = first;
    const given = Object.keys(values).filter((name) => name !== 'config');
    const stray = given.find((name) => !ALLOWED[kind][action]!.includes(name));
    if (stray) throw new UsageError(`--${stray} does not apply to ${kind} ${action}`);
    if (!values.config) throw new UsageError('--config FILE is required');
  } catch (error) {
    if (!(error instanceof UsageError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    io.stderr(`idgate ${kind}: ${(error as Error).message}\n\n${usage}`);
    return EXIT.usage;
  }

  const config = await loadConfigFile(values.config);
  let management: Awaited<ReturnType<typeof openManagement>> | undefined;
  try {
    management = await openManagement(config, io);
    return await RUNNERS[kind](action, values, management.deps, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`idgate ${kind} ${action}: ${error.message}\n\n${usage}`);
      return EXIT.usage;
    }
    if (error instanceof InvalidArgumentError) {
      io.stderr(`idgate ${kind} ${action}: ${flagField(error.field)}: ${error.reason}\n`);
      return EXIT.failed;
    }
    if (error instanceof StorageError && error.code === 'read_only') {
      io.stderr(`idgate ${kind} ${action}: ${error.message}; change it in ${config.source}\n`);
      return EXIT.readOnly;
    }
    throw error;
  } finally {
    await management?.close();
  }
}
