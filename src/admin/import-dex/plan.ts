/**
 * What an import would do, decided before anything is written: each Dex record mapped to idgate's
 * (client secrets and refresh-token secrets hashed, the `sub` inputs kept: user ID and connector ID),
 * and each one that is not imported put in a bucket with its reason: defined statically in the
 * config (the config wins), already in idgate's storage (a conflict), or not carried over.
 */
import { bcryptCost } from '../../../connectors/local/index.js';
import type { Config } from '../../config/load.js';
import { connectorFactory, connectorTypes } from '../../connector.js';
import { parseScopes } from '../../oidc/scopes.js';
import { familyExpiresAt, type RefreshFamily } from '../../oidc/token/refresh-family.js';
import { hashSecret, hashToken } from '../../storage/secrets.js';
import type { Client, ConnectorRecord, EpochMs, Password, Storage, StoredIdentity } from '../../storage/storage.js';
import { translateConnectorData } from './connector-data.js';
import { planKeys, type ImportedKey } from './keys.js';
import type { DexClient, DexConnector, DexDatabase, DexOfflineSession, DexPassword, DexRefreshToken } from './read.js';

export type EntityKind = 'client' | 'password' | 'connector' | 'refresh token' | 'key';

export interface Skipped {
  kind: EntityKind;
  id: string;
  reason: string;
}

export interface ImportPlan {
  schemaVersion: number;
  clients: Client[];
  passwords: Password[];
  connectors: ConnectorRecord[];
  refreshTokens: RefreshFamily[];
  keys: ImportedKey[];
  /** Dex's offline sessions read (their connector data folded into the refresh tokens). */
  offlineSessions: number;
  /** Defined in the idgate config: the config's entry stays, Dex's is not imported. */
  static: Skipped[];
  /** Already in idgate's storage: never overwritten. */
  conflicts: Skipped[];
  /** Cannot work in idgate, with the reason. */
  notCarried: Skipped[];
  /** Imported, but something the operator should know (a connector not configured, ...). */
  notes: string[];
}

export interface PlanOptions {
  now: EpochMs;
  /** Dex's expiry.idTokens: how long tokens signed with Dex's current key stay valid after the import. */
  dexTokenLifetime: number;
}

/** Connectors a refresh token may name: configured (with their parsed config), `local`, imported. */
type ConnectorLookup = Map<string, { type: string; config: unknown }>;

function mapClient(client: DexClient): Client | string {
  if (!client.public && client.secret === '') return 'a confidential client without a secret';
  return {
    id: client.id,
    secretHash: client.public ? null : hashSecret(client.secret),
    redirectURIs: client.redirectURIs,
    trustedPeers: client.trustedPeers,
    public: client.public,
    name: client.name || client.id,
    ...(client.logoURL ? { logoURL: client.logoURL } : {}),
    ...(client.allowedConnectors ? { allowedConnectors: client.allowedConnectors } : {}),
  };
}

function mapPassword(password: DexPassword): Password | string {
  if (bcryptCost(password.hash) === undefined) return 'its hash is not a bcrypt hash';
  return {
    id: password.email,
    email: password.email,
    hash: password.hash,
    // Dex's `name` claim falls back to the username (resolvePasswordName).
    username: password.name || password.username,
    userId: password.userId,
    ...(password.groups ? { groups: password.groups } : {}),
    ...(password.preferredUsername ? { preferredUsername: password.preferredUsername } : {}),
    ...(password.emailVerified !== undefined ? { emailVerified: password.emailVerified } : {}),
  };
}

function mapConnector(connector: DexConnector): ConnectorRecord | string {
  const factory = connectorFactory(connector.type);
  if (!factory) return `type "${connector.type}" is not a connector type idgate has (${connectorTypes().join(', ')})`;
  const checked = factory.configSchema.safeParse(connector.config);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return `its config does not validate as idgate's ${connector.type} config: ${issue?.path.join('.') || '(config)'}: ${issue?.message ?? 'invalid'}`;
  }
  return {
    id: connector.id,
    type: connector.type,
    name: connector.name || connector.id,
    config: connector.config,
    ...(connector.grantTypes ? { grantTypes: connector.grantTypes } : {}),
  };
}

function identityOf(token: DexRefreshToken): StoredIdentity {
  const { claims } = token;
  return {
    userId: claims.userId,
    username: claims.username,
    ...(claims.preferredUsername ? { preferredUsername: claims.preferredUsername } : {}),
    ...(claims.email ? { email: claims.email } : {}),
    emailVerified: claims.emailVerified,
    ...(claims.groups ? { groups: claims.groups } : {}),
  };
}

/**
 * Dex's rule (getRefreshTokenFromStorage): the token's own connector data if it has any, else the
 * offline session's; with no offline session for the user at the connector, none.
 */
function dexConnectorData(token: DexRefreshToken, sessions: DexOfflineSession[]): Buffer | undefined {
  const session = sessions.find((entry) => entry.userId === token.claims.userId && entry.connectorId === token.connectorId);
  if (!session) return undefined;
  return token.connectorData ?? session.connectorData;
}

class Notes {
  private readonly grouped = new Map<string, string[]>();
  add(message: string, id: string): void {
    this.grouped.set(message, [...(this.grouped.get(message) ?? []), id]);
  }
  list(): string[] {
    return [...this.grouped].map(([message, ids]) => `${message}: ${ids.join(', ')}`);
  }
}

function mapRefreshToken(
  token: DexRefreshToken,
  db: DexDatabase,
  context: { config: Config; connectors: ConnectorLookup; now: EpochMs; notes: Notes },
): RefreshFamily | string {
  if (token.token === '') return 'it has no token secret (issued before Dex kept one), so a presented token cannot be verified';
  try {
    parseScopes(token.scopes);
  } catch (error) {
    return (error as Error).message;
  }
  const createdAt = token.createdAt ?? token.lastUsed ?? context.now;
  const lastUsedAt = token.lastUsed ?? createdAt;
  const expiresAt = familyExpiresAt(createdAt, lastUsedAt, context.config.expiry.refreshTokens);
  if (expiresAt <= context.now) return "it has expired under idgate's expiry.refreshTokens";
  const identity = identityOf(token);
  const connector = context.connectors.get(token.connectorId);
  if (!connector) context.notes.add(`connector ${token.connectorId} is neither in the config nor imported; these sessions cannot refresh until it is`, token.id);
  const translated = translateConnectorData({
    type: connector?.type, config: connector?.config, identity, createdAt, data: dexConnectorData(token, db.offlineSessions),
  });
  if (translated.problem) context.notes.add(`connector ${token.connectorId}: ${translated.problem}`, token.id);
  return {
    id: token.id,
    clientId: token.clientId,
    connectorId: token.connectorId,
    scopes: token.scopes,
    ...(token.nonce ? { nonce: token.nonce } : {}),
    identity,
    ...(translated.data ? { connectorData: translated.data.toString('base64') } : {}),
    authTime: Math.floor(createdAt / 1000),
    tokenHash: hashToken(token.token),
    // Dex's previous secret: presented again, it counts as reuse of a rotated token.
    ...(token.obsoleteToken ? { obsoleteTokenHash: hashToken(token.obsoleteToken) } : {}),
    createdAt,
    lastUsedAt,
    expiresAt,
    importedFrom: 'dex',
  };
}

const IN_STORAGE = "already in idgate's storage";

/** Sorts one kind of Dex record into static / conflict / not carried over / imported, in that order. */
async function sortOut<D, T extends { id: string }>(
  kind: EntityKind,
  records: D[],
  rule: { idOf(record: D): string; isStatic(id: string): boolean; map(record: D): T | string; conflict(id: string): Promise<string | undefined> },
  plan: ImportPlan,
): Promise<T[]> {
  const imported: T[] = [];
  for (const record of records) {
    const id = rule.idOf(record);
    if (rule.isStatic(id)) {
      plan.static.push({ kind, id, reason: 'defined in the config' });
      continue;
    }
    const conflict = await rule.conflict(id);
    if (conflict) {
      plan.conflicts.push({ kind, id, reason: conflict });
      continue;
    }
    const mapped = rule.map(record);
    if (typeof mapped === 'string') plan.notCarried.push({ kind, id, reason: mapped });
    else imported.push(mapped);
  }
  return imported;
}

export async function planImport(db: DexDatabase, config: Config, storage: Storage, options: PlanOptions): Promise<ImportPlan> {
  const plan: ImportPlan = {
    schemaVersion: db.schemaVersion, clients: [], passwords: [], connectors: [], refreshTokens: [], keys: [],
    offlineSessions: db.offlineSessions.length, static: [], conflicts: [], notCarried: [], notes: [],
  };
  const staticClients = new Set(config.staticClients.map((client) => client.id));
  const staticPasswords = new Set(config.staticPasswords.map((password) => password.email.toLowerCase()));
  // `local` is the password DB's ID in Dex and in idgate alike.
  const staticConnectors = new Set(['local', ...config.connectors.map((connector) => connector.id)]);

  plan.clients = await sortOut('client', db.clients, {
    idOf: (client) => client.id, isStatic: (id) => staticClients.has(id), map: mapClient,
    conflict: async (id) => ((await storage.clients.get(id)) ? IN_STORAGE : undefined),
  }, plan);
  for (const client of db.clients.filter((entry) => entry.unsupportedFields.length > 0 && !staticClients.has(entry.id))) {
    plan.notes.push(`client ${client.id}: ${client.unsupportedFields.join(', ')} not carried over (no such client setting in idgate)`);
  }
  plan.passwords = await sortOut('password', db.passwords, {
    idOf: (password) => password.email, isStatic: (id) => staticPasswords.has(id), map: mapPassword,
    conflict: async (id) => ((await storage.passwords.get(id)) ? IN_STORAGE : undefined),
  }, plan);
  if (plan.passwords.length > 0 && !config.enablePasswordDB) {
    plan.notes.push('enablePasswordDB is off in the config: the imported passwords are not used until it is on');
  }
  plan.connectors = await sortOut('connector', db.connectors, {
    idOf: (connector) => connector.id, isStatic: (id) => staticConnectors.has(id), map: mapConnector,
    conflict: async (id) => ((await storage.connectors.get(id)) ? IN_STORAGE : undefined),
  }, plan);

  const connectors: ConnectorLookup = new Map([
    ...(config.enablePasswordDB ? [['local', { type: 'local', config: undefined }] as const] : []),
    ...config.connectors.map((connector) => [connector.id, { type: connector.type, config: connector.config }] as const),
    ...plan.connectors.map((connector) => [connector.id, { type: connector.type, config: connector.config }] as const),
  ]);
  const notes = new Notes();
  plan.refreshTokens = await sortOut('refresh token', db.refreshTokens, {
    idOf: (token) => token.id, isStatic: () => false,
    map: (token) => mapRefreshToken(token, db, { config, connectors, now: options.now, notes }),
    conflict: async (id) => {
      if (await storage.refreshTokens.get(id)) return IN_STORAGE;
      // Ended in idgate after an earlier import (revoked, reused): importing it again would revive it.
      if (await storage.revocations.get(`sid:${id}`)) return 'revoked in idgate since an earlier import';
      return undefined;
    },
  }, plan);
  const knownClients = new Set([...staticClients, ...plan.clients.map((client) => client.id)]);
  for (const family of plan.refreshTokens) {
    if (!knownClients.has(family.clientId) && !(await storage.clients.get(family.clientId))) {
      notes.add(`client ${family.clientId} is neither in the config, nor imported, nor in storage; these sessions cannot refresh until it is`, family.id);
    }
  }
  plan.notes.push(...notes.list());

  const keys = await planKeys(db.keys, await storage.keys.get('signing'), options);
  plan.keys = keys.keys;
  plan.conflicts.push(...keys.conflicts.map((entry) => ({ kind: 'key' as const, ...entry })));
  plan.notCarried.push(...keys.notCarried.map((entry) => ({ kind: 'key' as const, ...entry })));
  if (!db.keys) plan.notes.push("Dex's keys table is empty (Dex never signed, or signed through Vault): no keys to carry over");
  return plan;
}
