/**
 * Keeps the open connectors in step with the ones stored through the management API: every
 * `intervalMs` (and at once when this process changed one) it lists storage.connectors, opens the new
 * ones, reopens those whose type, name, config or grants changed, and closes the deleted ones. The
 * shared connector map is changed in place, so the chooser and every grant see the change; other
 * replicas see it at their next re-list. Config-file connectors (static) are never touched here.
 */
import { connectorFactory } from '../connector.js';
import type { OpenConnector } from '../oidc/context.js';
import type { ConnectorRecord } from '../storage/storage.js';
import { openConnector, type OpenConnectorsDeps } from './connectors.js';

/** How often each replica re-lists stored connectors by default: the worst-case delay of a change. */
export const DEFAULT_CONNECTOR_REFRESH_MS = 5_000;

export interface ConnectorSync {
  /** Re-reads storage now; resolves once the map matches what was read. Never rejects. */
  refresh(): Promise<void>;
  /** Starts the periodic re-list (a timer that does not keep the process alive). */
  start(): void;
  /** Stops the timer once a re-list under way has finished (closing the map's connectors is the issuer's). */
  stop(): Promise<void>;
}

function fingerprint(record: ConnectorRecord): string {
  return JSON.stringify([record.type, record.name, record.config, record.grantTypes ?? []]);
}

async function openStored(record: ConnectorRecord, deps: OpenConnectorsDeps): Promise<OpenConnector> {
  const factory = connectorFactory(record.type);
  if (!factory) throw new Error(`connector type "${record.type}" is not registered`);
  const parsed = factory.configSchema.safeParse(record.config);
  if (!parsed.success) throw new Error(`its stored config is not valid for type ${record.type}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return openConnector({ ...record, config: parsed.data }, deps);
}

export function createConnectorSync(
  connectors: Map<string, OpenConnector>,
  deps: OpenConnectorsDeps & { intervalMs?: number },
): ConnectorSync {
  /** Fingerprints of the stored connectors this sync put in the map. */
  const opened = new Map<string, string>();
  /** Fingerprints that failed to open: tried again at every re-list, logged as an error once. */
  const failed = new Map<string, string>();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  async function close(open: OpenConnector | undefined): Promise<void> {
    await open?.connector.close?.().catch((error: unknown) => deps.logger.warn({ connector: open.id, err: error }, 'connector did not close cleanly'));
  }

  async function apply(record: ConnectorRecord): Promise<void> {
    const print = fingerprint(record);
    if (opened.get(record.id) === print) return;
    const previous = opened.has(record.id) ? connectors.get(record.id) : undefined;
    try {
      const next = await openStored(record, deps);
      connectors.set(record.id, next);
      opened.set(record.id, print);
      failed.delete(record.id);
      deps.logger.info({ connector: record.id, type: record.type }, previous ? 'stored connector reopened with its new settings' : 'stored connector opened');
    } catch (error) {
      // Left out, as a config connector that fails at start is, and tried again at the next re-list.
      connectors.delete(record.id);
      opened.delete(record.id);
      const details = { connector: record.id, type: record.type, err: error instanceof Error ? error.message : String(error) };
      if (failed.get(record.id) === print) deps.logger.debug(details, 'stored connector still fails to open');
      else deps.logger.error(details, 'stored connector failed to open; left out, retried at every re-list');
      failed.set(record.id, print);
    }
    await close(previous);
  }

  async function remove(id: string): Promise<void> {
    const previous = connectors.get(id);
    connectors.delete(id);
    opened.delete(id);
    deps.logger.info({ connector: id }, 'stored connector deleted; closed');
    await close(previous);
  }

  async function sync(): Promise<void> {
    let records: ConnectorRecord[];
    try {
      records = (await deps.storage.connectors.list()).filter((record) => !record.static);
    } catch (error) {
      deps.logger.warn({ err: error }, 'could not list stored connectors; keeping the open ones until the next re-list');
      return;
    }
    const ids = new Set(records.map((record) => record.id));
    for (const record of records) await apply(record);
    for (const id of [...opened.keys()]) if (!ids.has(id)) await remove(id);
    for (const id of [...failed.keys()]) if (!ids.has(id)) failed.delete(id);
  }

  return {
    refresh() {
      // One re-list at a time, in order: a change made here is never overtaken by an older read.
      running = running.then(sync);
      return running;
    },
    start() {
      timer ??= setInterval(() => void this.refresh(), deps.intervalMs ?? DEFAULT_CONNECTOR_REFRESH_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
