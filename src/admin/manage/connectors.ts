/**
 * Connectors at runtime (Dex's CreateConnector/UpdateConnector/DeleteConnector/ListConnectors): stored
 * beside the config file's connectors, which stay read-only. A config is the connector type's JSON
 * (what its `config:` block holds in the file) and is checked against that type's schema before it is
 * stored, so a stored connector can always be opened as far as its settings go. Every replica opens,
 * reopens and closes stored connectors at its next re-list (login/connector-sync.ts); the one that
 * made the change at once.
 */
import { connectorFactory, connectorTypes } from '../../connector.js';
import { formatPath } from '../../config/errors.js';
import { AlreadyExistsError, NotFoundError, type ConnectorRecord } from '../../storage/storage.js';
import { auditedChange, InvalidArgumentError, stringList, type ManagementDeps } from './service.js';

/** Dex's ConnectorGrantTypes: the grants a connector can be limited to. */
export const CONNECTOR_GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'implicit',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;

/** The id rule of connectors in the config file (it is a URL path segment). */
const CONNECTOR_ID = /^[A-Za-z0-9._-]+$/;

export interface NewConnector {
  id: string;
  type: string;
  name: string;
  /** The connector type's config, as JSON text (Dex sends bytes). */
  config: string;
  /** Empty: every grant. */
  grantTypes?: string[];
}

/** A connector as the API shows it. */
export interface ConnectorView {
  id: string;
  type: string;
  name: string;
  /** The stored config as JSON text; undefined for a config-file connector (its config stays in the file). */
  config?: string;
  grantTypes: string[];
  /** From the config file: read-only. */
  static: boolean;
}

export interface ConnectorChanges {
  type?: string;
  name?: string;
  config?: string;
  /** Present (even empty, meaning every grant) to change the grants; absent to keep them. */
  grantTypes?: string[];
}

function parseJson(field: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidArgumentError(field, 'not valid JSON');
  }
}

/** The config, parsed and checked against `type`'s schema; `field` names where it came from. */
function checkedConfig(type: string, field: string, text: string): unknown {
  if (type === 'local') throw new InvalidArgumentError('type', 'type local is the password DB (enablePasswordDB in the config file); it cannot be added at runtime');
  const factory = connectorFactory(type);
  if (!factory) throw new InvalidArgumentError('type', `unknown connector type "${type}"; known: ${connectorTypes().join(', ')}`);
  const config = parseJson(field, text);
  const parsed = factory.configSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidArgumentError(formatPath([field, ...issue.path]), issue.message);
  }
  return config;
}

function grantTypes(field: string, values: readonly string[]): string[] {
  return stringList(field, values).map((grant, index) => {
    if (!(CONNECTOR_GRANT_TYPES as readonly string[]).includes(grant)) {
      throw new InvalidArgumentError(`${field}[${index}]`, `unknown grant type "${grant}"; known: ${CONNECTOR_GRANT_TYPES.join(', ')}`);
    }
    return grant;
  });
}

function viewOf(record: ConnectorRecord): ConnectorView {
  return {
    id: record.id,
    type: record.type,
    name: record.name,
    ...(record.static ? {} : { config: JSON.stringify(record.config) }),
    grantTypes: record.grantTypes ?? [],
    static: record.static === true,
  };
}

async function changed(deps: ManagementDeps): Promise<void> {
  await deps.connectorsChanged?.();
}

export async function createConnector(deps: ManagementDeps, input: NewConnector): Promise<{ alreadyExists: boolean }> {
  return auditedChange(deps, 'connector_created', { connectorId: input.id, type: input.type }, async () => {
    if (!CONNECTOR_ID.test(input.id)) throw new InvalidArgumentError('id', 'must be letters, digits, ".", "_" or "-"');
    if (!input.type) throw new InvalidArgumentError('type', 'the connector type is required');
    if (!input.name) throw new InvalidArgumentError('name', 'the name shown on the login page is required');
    if (!input.config) throw new InvalidArgumentError('config', "the connector type's config (JSON) is required");
    const record: ConnectorRecord = {
      id: input.id,
      type: input.type,
      name: input.name,
      config: checkedConfig(input.type, 'config', input.config),
      ...(input.grantTypes?.length ? { grantTypes: grantTypes('grantTypes', input.grantTypes) } : {}),
    };
    try {
      await deps.storage.connectors.create(record);
    } catch (error) {
      if (error instanceof AlreadyExistsError) return { alreadyExists: true };
      throw error;
    }
    await changed(deps);
    return { alreadyExists: false };
  });
}

export async function updateConnector(deps: ManagementDeps, id: string, changes: ConnectorChanges): Promise<{ notFound: boolean }> {
  const fields = Object.entries(changes).filter(([key, value]) => value !== undefined && (key === 'grantTypes' || value !== '')).map(([key]) => key);
  return auditedChange(deps, 'connector_updated', { connectorId: id, changed: fields }, async () => {
    if (!id) throw new InvalidArgumentError('id', 'the connector to update is required');
    if (fields.length === 0) throw new InvalidArgumentError('config', 'nothing to update: give a new type, name, config or grant types');
    const grants = changes.grantTypes === undefined ? undefined : grantTypes('grantTypes', changes.grantTypes);
    try {
      await deps.storage.connectors.update(id, (current) => {
        const type = changes.type || current.type;
        // A new type needs a config of that type: the stored one is checked again when no new one comes.
        const config = changes.config ? checkedConfig(type, 'config', changes.config)
          : type !== current.type ? checkedConfig(type, 'config', JSON.stringify(current.config)) : current.config;
        const { grantTypes: previous, ...rest } = current;
        const nextGrants = grants ?? previous;
        return { ...rest, type, name: changes.name || current.name, config, ...(nextGrants?.length ? { grantTypes: nextGrants } : {}) };
      });
    } catch (error) {
      if (error instanceof NotFoundError) return { notFound: true };
      throw error;
    }
    await changed(deps);
    return { notFound: false };
  });
}

export async function deleteConnector(deps: ManagementDeps, id: string): Promise<{ notFound: boolean }> {
  return auditedChange(deps, 'connector_deleted', { connectorId: id }, async () => {
    if (!id) throw new InvalidArgumentError('id', 'the connector to delete is required');
    const deleted = await deps.storage.connectors.delete(id);
    if (deleted) await changed(deps);
    return { notFound: !deleted };
  });
}

export async function listConnectors(deps: ManagementDeps): Promise<ConnectorView[]> {
  return (await deps.storage.connectors.list()).map(viewOf);
}
