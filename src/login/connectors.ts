/**
 * Opens the connectors the config asks for, in config order: each configured one through the
 * registry (with its own storage-backed ConnectorStore), then the password DB as `local` when
 * enablePasswordDB is set (over storage.passwords, which must already carry staticPasswords).
 * A connector that fails to open is logged and left out (Dex's default), so one broken upstream
 * does not take sign-in down for everyone.
 */
import type { Logger } from 'pino';
import { bcryptCost, createLocalConnector } from '../../connectors/local/index.js';
import '../../connectors/index.js';
import type { Config } from '../config/load.js';
import { connectorFactory } from '../connector.js';
import type { OpenConnector } from '../oidc/context.js';
import type { Storage } from '../storage/storage.js';
import type { Tracing } from '../telemetry/tracing.js';
import { createConnectorStore } from './connector-store.js';

export interface OpenConnectorsDeps {
  storage: Storage;
  logger: Logger;
  now: () => number;
  /** The issuer URL without a trailing slash. */
  issuer: string;
  tracing?: Tracing;
}

export async function openConnectors(config: Config, deps: OpenConnectorsDeps): Promise<Map<string, OpenConnector>> {
  const open = new Map<string, OpenConnector>();
  for (const entry of config.connectors) {
    const logger = deps.logger.child({ connector: entry.id });
    const factory = connectorFactory(entry.type);
    if (!factory) {
      logger.error({ type: entry.type }, 'connector type is not registered; connector left out');
      continue;
    }
    try {
      const connector = await factory.open(entry.config, {
        id: entry.id,
        name: entry.name,
        issuer: deps.issuer,
        logger,
        store: createConnectorStore(deps.storage, entry.id, deps.now),
        now: deps.now,
        ...(deps.tracing ? { tracing: deps.tracing } : {}),
      });
      open.set(entry.id, { id: entry.id, type: entry.type, name: entry.name, connector });
    } catch (error) {
      logger.error({ type: entry.type, err: error instanceof Error ? error.message : String(error) }, 'connector failed to open; left out');
    }
  }
  if (config.enablePasswordDB) {
    open.set('local', { id: 'local', type: 'local', name: 'Email', connector: await openPasswordDB(config, deps.storage) });
  }
  return open;
}

/**
 * The `local` connector over storage.passwords. The config's staticPasswords must already be laid
 * over storage (withStatic, as buildIssuer does); their bcrypt cost sets the dummy hash's.
 */
function openPasswordDB(config: Config, storage: Storage) {
  const firstHash = config.staticPasswords[0]?.hash;
  return createLocalConnector({
    lookup: (email) => storage.passwords.get(email),
    dummyCost: (firstHash && bcryptCost(firstHash)) || 10,
  });
}
