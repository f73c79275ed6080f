/**
 * Opens the connectors the config asks for, in config order: each configured one through the
 * registry (with its own storage-backed ConnectorStore), then the password DB as `local` when
 * enablePasswordDB is set (over storage.passwords, which must already carry staticPasswords).
 * `openConnector` also opens the connectors stored through the management API (connector-sync.ts).
 * A connector that fails to open is logged and left out (Dex's default), so one broken upstream
 * does not take sign-in down for everyone.
 */
import type { Logger } from 'pino';
import { bcryptCost, createLocalConnector } from '../../connectors/local/index.js';
import '../../connectors/index.js';
import { withClaimRules } from '../claims/mapped-connector.js';
import type { Config, ConnectorConfig } from '../config/load.js';
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

/** What opening one connector needs: its type, id, name, the config its type's schema parsed, and grants. */
export type ConnectorEntry = Pick<ConnectorConfig, 'type' | 'id' | 'name' | 'config' | 'grantTypes' | 'claimRules'>;

/**
 * Opens one connector through the registry, with its own storage-backed ConnectorStore. Throws if the
 * type is not registered or the connector cannot open; the caller decides whether to leave it out.
 */
export async function openConnector(entry: ConnectorEntry, deps: OpenConnectorsDeps): Promise<OpenConnector> {
  const factory = connectorFactory(entry.type);
  if (!factory) throw new Error(`connector type "${entry.type}" is not registered`);
  const opened = await factory.open(entry.config, {
    id: entry.id,
    name: entry.name,
    issuer: deps.issuer,
    logger: deps.logger.child({ connector: entry.id }),
    store: createConnectorStore(deps.storage, entry.id, deps.now),
    now: deps.now,
    ...(deps.tracing ? { tracing: deps.tracing } : {}),
    ...(entry.claimRules ? { claimNames: entry.claimRules.claimNames ?? 'all' } : {}),
  });
  // Its claim rules (src/claims/) see every identity it returns, whichever flow asked for it.
  const connector = entry.claimRules ? withClaimRules(opened, entry.claimRules, entry.id) : opened;
  return { id: entry.id, type: entry.type, name: entry.name, connector, ...(entry.grantTypes ? { grantTypes: entry.grantTypes } : {}) };
}

export async function openConnectors(config: Config, deps: OpenConnectorsDeps): Promise<Map<string, OpenConnector>> {
  const open = new Map<string, OpenConnector>();
  for (const entry of config.connectors) {
    try {
      open.set(entry.id, await openConnector(entry, deps));
    } catch (error) {
      const err = error instanceof Error ? error.message : String(error);
      deps.logger.child({ connector: entry.id }).error({ type: entry.type, err }, 'connector failed to open; left out');
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
