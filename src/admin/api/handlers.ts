/**
 * The `api.Dex` service: each RPC decodes its request, calls the management operation (admin/manage/,
 * the same code the CLI runs) and encodes Dex's answer, with Dex's `already_exists` / `not_found`
 * flags. Every call runs in an audit scope naming the caller: the subject of its client certificate.
 * Errors become gRPC statuses with a readable message: INVALID_ARGUMENT (the field and why),
 * NOT_FOUND (GetClient, which has no flag), FAILED_PRECONDITION (a config-file entry, read-only),
 * UNAVAILABLE (storage), INTERNAL (anything else, logged with the request id, never its details).
 */
import { randomUUID } from 'node:crypto';
import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import type { IssuerContext } from '../../oidc/context.js';
import { discoveryDocument } from '../../oidc/discovery.js';
import { StorageError } from '../../storage/storage.js';
import type { AuditRequest } from '../../telemetry/audit.js';
import { createClient, deleteClient, getClient, listClients, updateClient } from '../manage/clients.js';
import { createConnector, deleteConnector, listConnectors, updateConnector } from '../manage/connectors.js';
import { createPassword, deletePassword, listPasswords, updatePassword, verifyPassword } from '../manage/passwords.js';
import { listRefresh, revokeRefresh } from '../manage/refresh-tokens.js';
import { InvalidArgumentError, type ManagementDeps } from '../manage/service.js';
import {
  clientInfoOf, clientOf, connectorOf, newClientOf, refuseUnsupportedClientFields, textOf,
  type ClientMessage, type ConnectorMessage, type PasswordMessage, type UpdateClientMessage, type UpdateConnectorMessage,
} from './messages.js';

/** The API version Dex v2.45 reports: the calls served here are exactly its set. */
export const DEX_API_VERSION = 3;

export interface HandlerDeps {
  issuer: IssuerContext;
  /** Re-reads the stored connectors in this process after a change. */
  refreshConnectors: () => Promise<void>;
  version: string;
  logger: Logger;
}

type Rpc = (request: never, deps: ManagementDeps) => Promise<object>;

/** "CN=ops, O=Example" from a certificate subject; attribute values may repeat. */
export function distinguishedName(subject: PeerCertificate['subject'] | undefined): string | undefined {
  if (!subject) return undefined;
  const parts = Object.entries(subject).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${String(v)}`));
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** The peer's address without its port ("127.0.0.1:5000" and "[::1]:5000" alike). */
function peerAddress(peer: string): string {
  const withoutPort = peer.replace(/:\d+$/, '');
  return withoutPort.replace(/^\[(.*)\]$/, '$1') || 'unknown';
}

function callerOf(call: ServerUnaryCall<unknown, unknown>): AuditRequest {
  const certificate = call.getAuthContext().sslPeerCertificate;
  return {
    requestId: randomUUID(),
    clientIp: peerAddress(call.getPeer()),
    origin: 'admin-api',
    actor: distinguishedName(certificate?.subject) ?? 'unauthenticated',
  };
}

interface GrpcError {
  code: status;
  details: string;
}

/** An answer that is a status of its own (GetClient's NOT_FOUND), not a failure. */
class StatusAnswer extends Error implements GrpcError {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
  }
}

/** Per RPC, the wire name of each field the management operations name (`redirectURIs[1]` → `client.redirect_uris[1]`). */
const WIRE_FIELD_NAMES: Record<string, Record<string, string>> = {
  CreateClient: { id: 'client.id', secret: 'client.secret', redirectURIs: 'client.redirect_uris', trustedPeers: 'client.trusted_peers', allowedConnectors: 'client.allowed_connectors' },
  UpdateClient: { redirectURIs: 'redirect_uris', trustedPeers: 'trusted_peers', allowedConnectors: 'allowed_connectors' },
  CreatePassword: { email: 'password.email', hash: 'password.hash', userId: 'password.user_id' },
  UpdatePassword: { hash: 'new_hash' },
  CreateConnector: { id: 'connector.id', type: 'connector.type', name: 'connector.name', config: 'connector.config', grantTypes: 'connector.grant_types' },
  UpdateConnector: { type: 'new_type', name: 'new_name', config: 'new_config', grantTypes: 'new_grant_types.grant_types' },
};

function wireField(rpc: string, field: string): string {
  return field.replace(/^[A-Za-z]+/, (head) => WIRE_FIELD_NAMES[rpc]?.[head] ?? head);
}

function grpcError(error: unknown, rpc: string, requestId: string, logger: Logger): GrpcError {
  if (error instanceof StatusAnswer) return error;
  if (error instanceof InvalidArgumentError) return { code: status.INVALID_ARGUMENT, details: `${wireField(rpc, error.field)}: ${error.reason}` };
  if (error instanceof StorageError) {
    switch (error.code) {
      case 'read_only':
        return { code: status.FAILED_PRECONDITION, details: `read-only: ${error.message}; change it in the config file` };
      case 'unavailable':
        return { code: status.UNAVAILABLE, details: 'storage is unavailable; try again' };
      case 'conflict':
        return { code: status.ABORTED, details: `${error.message}; try again` };
      default:
        break;
    }
  }
  logger.error({ rpc, requestId, err: error }, 'management API call failed');
  return { code: status.INTERNAL, details: `internal error (request id ${requestId})` };
}

const rpcs: Record<string, Rpc> = {
  async GetClient(request: { id?: string }, deps) {
    const client = await getClient(deps, request.id ?? '');
    if (!client) throw new StatusAnswer(status.NOT_FOUND, `no client "${request.id ?? ''}"`);
    return { client: clientOf(client) };
  },
  async CreateClient(request: { client?: ClientMessage }, deps) {
    if (!request.client) throw new InvalidArgumentError('client', 'no client supplied');
    const created = await createClient(deps, newClientOf(request.client));
    return created.alreadyExists ? { already_exists: true } : { client: clientOf(created.client, created.secret ?? '') };
  },
  async UpdateClient(request: UpdateClientMessage, deps) {
    refuseUnsupportedClientFields(request);
    const result = await updateClient(deps, request.id ?? '', {
      ...(request.redirect_uris ? { redirectURIs: request.redirect_uris } : {}),
      ...(request.trusted_peers ? { trustedPeers: request.trusted_peers } : {}),
      ...(request.name ? { name: request.name } : {}),
      ...(request.logo_url ? { logoURL: request.logo_url } : {}),
      ...(request.allowed_connectors ? { allowedConnectors: request.allowed_connectors } : {}),
    });
    return { not_found: result.notFound };
  },
  async DeleteClient(request: { id?: string }, deps) {
    return { not_found: (await deleteClient(deps, request.id ?? '')).notFound };
  },
  async ListClients(_request: object, deps) {
    return { clients: (await listClients(deps)).map(clientInfoOf) };
  },
  async CreatePassword(request: { password?: PasswordMessage }, deps) {
    const password = request.password;
    if (!password) throw new InvalidArgumentError('password', 'no password supplied');
    const hash = textOf('password.hash', password.hash);
    if (!hash) throw new InvalidArgumentError('password.hash', 'no hash of the password supplied (a bcrypt hash)');
    const result = await createPassword(deps, { email: password.email ?? '', hash, username: password.username ?? '', userId: password.user_id ?? '' });
    return { already_exists: result.alreadyExists };
  },
  async UpdatePassword(request: { email?: string; new_hash?: Buffer; new_username?: string }, deps) {
    const hash = textOf('new_hash', request.new_hash);
    const result = await updatePassword(deps, request.email ?? '', { ...(hash ? { hash } : {}), ...(request.new_username ? { username: request.new_username } : {}) });
    return { not_found: result.notFound };
  },
  async DeletePassword(request: { email?: string }, deps) {
    return { not_found: (await deletePassword(deps, request.email ?? '')).notFound };
  },
  async ListPasswords(_request: object, deps) {
    return { passwords: (await listPasswords(deps)).map((entry) => ({ email: entry.email, username: entry.username, user_id: entry.userId })) };
  },
  async VerifyPassword(request: { email?: string; password?: string }, deps) {
    const result = await verifyPassword(deps, request.email ?? '', request.password ?? '');
    return { verified: result.verified, not_found: result.notFound };
  },
  async CreateConnector(request: { connector?: ConnectorMessage }, deps) {
    const connector = request.connector;
    if (!connector) throw new InvalidArgumentError('connector', 'no connector supplied');
    const result = await createConnector(deps, {
      id: connector.id ?? '',
      type: connector.type ?? '',
      name: connector.name ?? '',
      config: textOf('connector.config', connector.config) ?? '',
      grantTypes: connector.grant_types ?? [],
    });
    return { already_exists: result.alreadyExists };
  },
  async UpdateConnector(request: UpdateConnectorMessage, deps) {
    const config = textOf('new_config', request.new_config);
    const result = await updateConnector(deps, request.id ?? '', {
      ...(request.new_type ? { type: request.new_type } : {}),
      ...(request.new_name ? { name: request.new_name } : {}),
      ...(config ? { config } : {}),
      ...(request.new_grant_types ? { grantTypes: request.new_grant_types.grant_types ?? [] } : {}),
    });
    return { not_found: result.notFound };
  },
  async DeleteConnector(request: { id?: string }, deps) {
    return { not_found: (await deleteConnector(deps, request.id ?? '')).notFound };
  },
  async ListConnectors(_request: object, deps) {
    return { connectors: (await listConnectors(deps)).map(connectorOf) };
  },
  async ListRefresh(request: { user_id?: string }, deps) {
    const refs = await listRefresh(deps, request.user_id ?? '');
    return { refresh_tokens: refs.map((ref) => ({ id: ref.id, client_id: ref.clientId, created_at: ref.createdAt, last_used: ref.lastUsed })) };
  },
  async RevokeRefresh(request: { user_id?: string; client_id?: string }, deps) {
    return { not_found: (await revokeRefresh(deps, request.user_id ?? '', request.client_id ?? '')).notFound };
  },
};

/** The service implementation for grpc-js's addService. */
export function dexApiHandlers(deps: HandlerDeps): UntypedServiceImplementation {
  const { issuer } = deps;
  const management: ManagementDeps = {
    storage: issuer.storage,
    config: issuer.config,
    audit: issuer.audit,
    now: issuer.now,
    connectorsChanged: deps.refreshConnectors,
  };
  const all: Record<string, (request: never) => Promise<object>> = {
    ...Object.fromEntries(Object.entries(rpcs).map(([name, rpc]) => [name, (request: never) => rpc(request, management)])),
    GetVersion: async () => ({ server: deps.version, api: DEX_API_VERSION }),
    GetDiscovery: async () => discoveryDocument(issuer),
  };
  return Object.fromEntries(Object.entries(all).map(([name, rpc]) => [
    name,
    (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const caller = callerOf(call);
      issuer.audit.within(caller, () => rpc(call.request as never)).then(
        (response) => {
          deps.logger.debug({ rpc: name, requestId: caller.requestId, actor: caller.actor }, 'management API call');
          callback(null, response);
        },
        (error: unknown) => {
          const answer = grpcError(error, name, caller.requestId, deps.logger);
          deps.logger.info({ rpc: name, requestId: caller.requestId, actor: caller.actor, grpcCode: status[answer.code] }, 'management API call refused');
          callback({ code: answer.code, details: answer.details });
        },
      );
    },
  ]));
}
