/**
 * Scope parsing and validation, shared by /auth and /token: the scopes Dex knows (openid, email,
 * profile, groups, offline_access, federated:id, audience:server:client_id:<peer>) and nothing else.
 * An unknown scope is `invalid_scope`, as in Dex; cross-client audiences need the peer's trust.
 */
import type { Client, Storage } from '../storage/storage.js';
import { OAuthError } from './errors.js';

export const CROSS_CLIENT_PREFIX = 'audience:server:client_id:';

/** Scopes advertised in discovery (the cross-client form is a pattern, so it is not listed). */
export const KNOWN_SCOPES = ['openid', 'email', 'profile', 'groups', 'offline_access', 'federated:id'] as const;

export interface ParsedScopes {
  /** Every scope, in request order, without duplicates. */
  all: string[];
  openid: boolean;
  email: boolean;
  profile: boolean;
  groups: boolean;
  offlineAccess: boolean;
  federatedId: boolean;
  /** Peer client IDs from `audience:server:client_id:<peer>`. */
  peers: string[];
}

const KNOWN = new Set<string>(KNOWN_SCOPES);

/**
 * Parses a space-separated `scope` parameter (or a stored list); throws invalid_scope on anything
 * unknown. `alsoKnown`: scopes a client's registration defines beyond idgate's own (parseClientScopes).
 */
export function parseScopes(scope: string | readonly string[] | undefined, options: { alsoKnown?: readonly string[] } = {}): ParsedScopes {
  const list = typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [...(scope ?? [])];
  const all = [...new Set(list)];
  const extra = new Set(options.alsoKnown ?? []);
  const unknown = all.filter((s) => !KNOWN.has(s) && !extra.has(s) && !(s.startsWith(CROSS_CLIENT_PREFIX) && s.length > CROSS_CLIENT_PREFIX.length));
  if (unknown.length > 0) throw new OAuthError('invalid_scope', `unrecognized scope(s): ${unknown.join(' ')}`);
  return {
    all,
    openid: all.includes('openid'),
    email: all.includes('email'),
    profile: all.includes('profile'),
    groups: all.includes('groups'),
    offlineAccess: all.includes('offline_access'),
    federatedId: all.includes('federated:id'),
    peers: all.filter((s) => s.startsWith(CROSS_CLIENT_PREFIX)).map((s) => s.slice(CROSS_CLIENT_PREFIX.length)),
  };
}

/**
 * A client's `scope` parameter, checked against what it may ask for (client.scopes, RFC 7591 `scope`).
 * With the list set, only its scopes, which may also name API scopes idgate does not define (they
 * travel in the access token's `scope`, for resource servers and filter policies); cross-client
 * audience scopes stay governed by the peer's trustedPeers. Without the list, any scope idgate knows.
 */
export function parseClientScopes(client: Pick<Client, 'id' | 'scopes'>, scope: string | undefined): ParsedScopes {
  const parsed = parseScopes(scope, { alsoKnown: client.scopes });
  const refused = parsed.all.filter((s) => !clientMayAsk(client, s));
  if (refused.length > 0) throw new OAuthError('invalid_scope', `client "${client.id}" may not ask for scope(s): ${refused.join(' ')} (its scopes)`);
  return parsed;
}

/** parseClientScopes' rule for one scope. */
export function clientMayAsk(client: Pick<Client, 'scopes'>, scope: string): boolean {
  if (scope.startsWith(CROSS_CLIENT_PREFIX)) return scope.length > CROSS_CLIENT_PREFIX.length;
  return client.scopes ? client.scopes.includes(scope) : KNOWN.has(scope);
}

/** Dex's cross-client trust: `peerId` lists `clientId` in its trustedPeers; a client always trusts itself. */
export async function trustsClient(storage: Storage, peerId: string, clientId: string): Promise<boolean> {
  if (peerId === clientId) return true;
  const peer = await storage.clients.get(peerId);
  return peer !== undefined && peer.trustedPeers.includes(clientId);
}

/**
 * The `aud` of tokens for `clientId` with these scopes: the client alone, or each requested peer plus
 * the client. A peer must exist and list `clientId` in its trustedPeers (a client may always name
 * itself); otherwise invalid_scope.
 */
export async function resolveAudience(storage: Storage, clientId: string, scopes: ParsedScopes): Promise<string[]> {
  const audience: string[] = [];
  for (const peerId of scopes.peers) {
    if (!(await trustsClient(storage, peerId, clientId))) {
      throw new OAuthError('invalid_scope', `client "${clientId}" is not a trusted peer of "${peerId}"`);
    }
    if (!audience.includes(peerId)) audience.push(peerId);
  }
  if (!audience.includes(clientId)) audience.push(clientId);
  return audience;
}
