/**
 * Clients at runtime (Dex's CreateClient/GetClient/UpdateClient/DeleteClient/ListClients): stored
 * beside the config file's static clients, which stay read-only. The secret is hashed before it is
 * stored (hashSecret) and handed back only by the create that chose or generated it; Dex's ID and
 * secret generation is kept, so scripts that leave them empty get what Dex would give them.
 */
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../../storage/secrets.js';
import { AlreadyExistsError, NotFoundError, type Client } from '../../storage/storage.js';
import { auditedChange, hasControlCharacter, InvalidArgumentError, stringList, type ManagementDeps } from './service.js';

/** The fields of a client that Dex's API carries (its Client message), as idgate stores them. */
export interface ClientSettings {
  redirectURIs: string[];
  trustedPeers: string[];
  public: boolean;
  name: string;
  logoURL?: string;
  /** Empty: every connector. */
  allowedConnectors: string[];
}

export interface NewClient extends Partial<ClientSettings> {
  /** Generated (Dex's NewID) when absent or empty. */
  id?: string;
  /** Generated for a confidential client when absent or empty; refused for a public one. */
  secret?: string;
}

/** A client as the API shows it: never its secret or hash. */
export interface ClientView extends ClientSettings {
  id: string;
  /** From the config file: read-only. */
  static: boolean;
}

/** What UpdateClient may change; an absent (or empty) field is left as it is, as in Dex. */
export type ClientChanges = Partial<Omit<ClientSettings, 'public'>>;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Dex's storage.NewID: 16 random bytes in unpadded lowercase base32 (26 characters). */
export function newID(): string {
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function checkId(field: string, id: string): void {
  if (id.length > 255 || /\s/.test(id) || hasControlCharacter(id)) throw new InvalidArgumentError(field, 'must be at most 255 characters, without spaces or control characters');
}

function redirectURIs(values: readonly string[]): string[] {
  const uris = stringList('redirectURIs', values);
  uris.forEach((uri, index) => {
    if (!URL.canParse(uri)) throw new InvalidArgumentError(`redirectURIs[${index}]`, 'not an absolute URL');
  });
  return uris;
}

export function viewOf(client: Client): ClientView {
  return {
    id: client.id,
    redirectURIs: client.redirectURIs,
    trustedPeers: client.trustedPeers,
    public: client.public,
    name: client.name,
    ...(client.logoURL ? { logoURL: client.logoURL } : {}),
    allowedConnectors: client.allowedConnectors ?? [],
    static: client.static === true,
  };
}

export type CreateClientResult =
  | { alreadyExists: true }
  | { alreadyExists: false; client: ClientView; secret: string | null };

export async function createClient(deps: ManagementDeps, input: NewClient): Promise<CreateClientResult> {
  const id = input.id || newID();
  return auditedChange(deps, 'client_created', { clientId: id }, async () => {
    checkId('id', id);
    const isPublic = input.public ?? false;
    if (isPublic && input.secret) throw new InvalidArgumentError('secret', 'a public client must not have a secret');
    const secret = isPublic ? null : input.secret || newID() + newID();
    const record: Client = {
      id,
      secretHash: secret === null ? null : hashSecret(secret),
      redirectURIs: redirectURIs(input.redirectURIs ?? []),
      trustedPeers: stringList('trustedPeers', input.trustedPeers ?? []),
      public: isPublic,
      name: input.name || id,
      ...(input.logoURL ? { logoURL: input.logoURL } : {}),
      ...(input.allowedConnectors?.length ? { allowedConnectors: stringList('allowedConnectors', input.allowedConnectors) } : {}),
    };
    try {
      await deps.storage.clients.create(record);
    } catch (error) {
      if (error instanceof AlreadyExistsError) return { alreadyExists: true as const };
      throw error;
    }
    return { alreadyExists: false as const, client: viewOf(record), secret };
  });
}

export async function getClient(deps: ManagementDeps, id: string): Promise<ClientView | undefined> {
  const client = await deps.storage.clients.get(id);
  return client ? viewOf(client) : undefined;
}

export async function listClients(deps: ManagementDeps): Promise<ClientView[]> {
  return (await deps.storage.clients.list()).map(viewOf);
}

export async function updateClient(deps: ManagementDeps, id: string, changes: ClientChanges): Promise<{ notFound: boolean }> {
  if (!id) throw new InvalidArgumentError('id', 'the client to update is required');
  const changed = Object.entries(changes).filter(([, value]) => (Array.isArray(value) ? value.length > 0 : Boolean(value))).map(([key]) => key);
  return auditedChange(deps, 'client_updated', { clientId: id, changed }, async () => {
    const uris = changes.redirectURIs?.length ? redirectURIs(changes.redirectURIs) : undefined;
    const peers = changes.trustedPeers?.length ? stringList('trustedPeers', changes.trustedPeers) : undefined;
    const allowed = changes.allowedConnectors?.length ? stringList('allowedConnectors', changes.allowedConnectors) : undefined;
    try {
      await deps.storage.clients.update(id, (current) => ({
        ...current,
        ...(uris ? { redirectURIs: uris } : {}),
        ...(peers ? { trustedPeers: peers } : {}),
        ...(changes.name ? { name: changes.name } : {}),
        ...(changes.logoURL ? { logoURL: changes.logoURL } : {}),
        ...(allowed ? { allowedConnectors: allowed } : {}),
      }));
    } catch (error) {
      if (error instanceof NotFoundError) return { notFound: true };
      throw error;
    }
    return { notFound: false };
  });
}

export async function deleteClient(deps: ManagementDeps, id: string): Promise<{ notFound: boolean }> {
  if (!id) throw new InvalidArgumentError('id', 'the client to delete is required');
  return auditedChange(deps, 'client_deleted', { clientId: id }, async () => ({ notFound: !(await deps.storage.clients.delete(id)) }));
}
