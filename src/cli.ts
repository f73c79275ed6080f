/**
 * The `idgate` command: serve, check (validate a config without serving), validate (Kiali's and
 * idgate's checks on Istio YAML), authz (explain/check policies), version. `main` returns the exit
 * code; nothing imports this module.
 */
import { parseArgs } from 'node:util';
import { runHealthCommand } from './admin/health.js';
import { runImportCommand } from './admin/import-dex/cli.js';
import { runManageCommand } from './admin/manage/cli.js';
import { runSessionsCommand } from './admin/sessions.js';
import { runKeysCommand } from './admin/storage-key.js';
import { runValidateCommand } from './admin/validate/cli.js';
import { runAuthzCommand } from './authz/cli.js';
import { ConfigError } from './config/errors.js';
import { loadConfigFile, type Config } from './config/load.js';
import { preflightConfig } from './config/preflight.js';
import { startServer } from './server.js';
import { createLogger } from './telemetry/logger.js';
import { startTracing } from './telemetry/tracing.js';
import { packageVersion } from './version.js';

const USAGE = `Usage: idgate <command> [options]

Commands:
  serve --config FILE     run the listeners the config asks for (issuer, filter, telemetry);
                          SIGHUP reloads the filter's policies
  check --config FILE     validate a config file without serving, opening its files and connectors as
                          serve would; exit 1 with every problem listed
  authz explain ...       show how the filter's policies decide a request (idgate authz --help)
  validate FILE|DIR...    Kiali's checks (KIA codes) and idgate's (IDG codes) on Istio YAML and inventory;
                          text, json or sarif (idgate validate --help)
  authz check FILE...     Istio's validation rules only, as the filter loads policies (no KIA/IDG checks)
  sessions list|revoke|end
                          list or revoke a user's sessions, end a browser session (idgate sessions --help)
  import dex ...          carry a Dex database (clients, passwords, connectors, refresh tokens, keys) into
                          idgate's storage, users keeping their sub and sessions (idgate import dex --help)
  clients|passwords|connectors list|create|update|delete
                          manage what Dex's gRPC API manages, in storage (idgate clients --help)
  keys rotate-storage-key re-seal stored secrets with the first storage.sealing key (idgate keys --help)
  health --config FILE    ask the running idgate's telemetry listener whether it is ready; exit 0 or 1
  version                 print the version
`;

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, io);
      case 'check':
        return await check(rest, io);
      case 'validate':
        return await runValidateCommand(rest, io, { version: version() });
      case 'authz':
        return await runAuthzCommand(rest, io);
      case 'sessions':
        return await runSessionsCommand(rest, io);
      case 'import':
        return await runImportCommand(rest, io);
      case 'clients':
      case 'passwords':
      case 'connectors':
        return await runManageCommand(command, rest, io);
      case 'health':
        return await runHealthCommand(rest, io);
      case 'keys':
        return await runKeysCommand(rest, io);
      case 'version':
      case '--version':
        io.stdout(`idgate ${version()}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`idgate: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`idgate ${command}: ${(error as Error).message}\n`);
      return 2;
    }
    io.stderr(`idgate ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}

function configFlag(args: string[]): string {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, allowPositionals: true, strict: true });
  const file = values.config;
  if (!file) throw Object.assign(new Error('--config FILE is required'), { code: 'ERR_PARSE_ARGS_MISSING' });
  return file;
}

async function check(args: string[], io: Io): Promise<number> {
  const file = configFlag(args);
  const config = await loadConfigFile(file);
  await refuseUnopenable(config, { connectors: true });
  const parts = [
    `issuer ${config.issuer}`,
    `storage ${config.storage.type}`,
    `${config.staticClients.length} static client(s)`,
    `${config.connectors.length + (config.enablePasswordDB ? 1 : 0)} connector(s)`,
  ];
  if (config.filter) parts.push('filter enabled');
  io.stdout(`${file}: OK (${parts.join(', ')})\n`);
  return 0;
}

async function serve(args: string[], io: Io): Promise<number> {
  const file = configFlag(args);
  const config = await loadConfigFile(file);
  // A connector that cannot open is left out at start (Dex's default) and reported by readiness.
  await refuseUnopenable(config, { connectors: false });
  const tracing = config.telemetry.tracing ? startTracing(config.telemetry.tracing) : undefined;
  const logger = createLogger({
    level: config.logger.level, format: config.logger.format, excludeFields: config.logger.excludeFields,
    ...(tracing ? { traceId: () => tracing.traceId() } : {}),
  });
  const server = await startServer(config, { logger, ...(tracing ? { tracing } : {}) });
  io.stdout(`idgate ${version()} serving ${config.issuer}${server.urls.telemetry ? ` (telemetry ${server.urls.telemetry})` : ''}\n`);
  // SIGHUP reloads (the filter's policies); the outcome is logged and counted by the reload itself.
  const reload = () => void server.reload('signal');
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      void server.close().then(() => tracing?.shutdown()).then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  logger.flush();
  return 0;
}

async function refuseUnopenable(config: Config, options: { connectors: boolean }): Promise<void> {
  const problems = await preflightConfig(config, options);
  if (problems.length > 0) throw new ConfigError(config.source, problems);
}

/** The package version (src/version.ts). */
const version = packageVersion;
