/**
 * Dex's API messages as proto-loader hands them over (wire field names; absent fields undefined, bytes
 * as Buffers), and the conversions between them and the management operations' types. Dex fields
 * idgate has no counterpart for are refused when set, naming the field, rather than dropped.
 */
import type { ClientView, NewClient } from '../manage/clients.js';
import type { ConnectorView } from '../manage/connectors.js';
import { InvalidArgumentError } from '../manage/service.js';

export interface ClientMessage {
  id?: string;
  secret?: string;
  redirect_uris?: string[];
  trusted_peers?: string[];
  public?: boolean;
  name?: string;
  logo_url?: string;
  allowed_connectors?: string[];
  sso_shared_with?: string[];
  backchannel_logout_uri?: string;
  post_logout_redirect_uris?: string[];
  refresh_token_lifetime?: string;
}

export type ClientInfoMessage = Omit<ClientMessage, 'secret'>;

export interface UpdateClientMessage extends Omit<ClientMessage, 'secret' | 'public'> {
  id?: string;
}

export interface PasswordMessage {
  email?: string;
  hash?: Buffer;
  username?: string;
  user_id?: string;
}

export interface ConnectorMessage {
  id?: string;
  type?: string;
  name?: string;
  config?: Buffer;
  grant_types?: string[];
}

export interface UpdateConnectorMessage {
  id?: string;
  new_type?: string;
  new_name?: string;
  new_config?: Buffer;
  new_grant_types?: { grant_types?: string[] };
}

/**
 * Refuses the Dex fields of a client that idgate does not implement (SSO sharing, back-channel and
 * RP-initiated logout, session-bound refresh tokens). "standalone" is Dex's default lifetime, and
 * idgate's only one.
 */
export function refuseUnsupportedClientFields(message: Omit<ClientMessage, 'id'>): void {
  const unsupported = (field: string, what: string) => new InvalidArgumentError(field, `is not supported by idgate (${what}); leave it empty`);
  if (message.sso_shared_with?.length) throw unsupported('sso_shared_with', 'SSO sharing between clients');
  if (message.backchannel_logout_uri) throw unsupported('backchannel_logout_uri', 'back-channel logout');
  if (message.post_logout_redirect_uris?.length) throw unsupported('post_logout_redirect_uris', 'RP-initiated logout');
  if (message.refresh_token_lifetime && message.refresh_token_lifetime !== 'standalone') {
    throw new InvalidArgumentError('refresh_token_lifetime', 'only "standalone" (Dex\'s default) is supported: refresh tokens do not end with a browser session');
  }
}

export function newClientOf(message: ClientMessage): NewClient {
  refuseUnsupportedClientFields(message);
  return {
    ...(message.id ? { id: message.id } : {}),
    ...(message.secret ? { secret: message.secret } : {}),
    redirectURIs: message.redirect_uris ?? [],
    trustedPeers: message.trusted_peers ?? [],
    public: message.public ?? false,
    name: message.name ?? '',
    ...(message.logo_url ? { logoURL: message.logo_url } : {}),
    allowedConnectors: message.allowed_connectors ?? [],
  };
}

export function clientInfoOf(view: ClientView): ClientInfoMessage {
  return {
    id: view.id,
    redirect_uris: view.redirectURIs,
    trusted_peers: view.trustedPeers,
    public: view.public,
    name: view.name,
    logo_url: view.logoURL ?? '',
    allowed_connectors: view.allowedConnectors,
  };
}

/** A Client message; `secret` only when the call just created it. */
export function clientOf(view: ClientView, secret = ''): ClientMessage {
  return { ...clientInfoOf(view), secret };
}

export function connectorOf(view: ConnectorView): ConnectorMessage {
  return { id: view.id, type: view.type, name: view.name, config: Buffer.from(view.config ?? '', 'utf8'), grant_types: view.grantTypes };
}

/** Bytes as UTF-8 text; undefined when absent or empty (Dex treats an empty bytes field as unset). */
export function textOf(field: string, bytes: Buffer | undefined): string | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new InvalidArgumentError(field, 'not UTF-8 text');
  return text;
}
