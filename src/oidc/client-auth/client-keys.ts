/**
 * A client's registered keys (RFC 7591 jwks, or jwks_uri fetched and cached), for the methods that
 * verify with them: private_key_jwt (its public keys) and self_signed_tls_client_auth (the
 * certificates in their x5c). One key set per issuer and per jwksURI or inline set, so jose imports
 * keys once and a remote set is refetched on an unknown key at most once per cooldown.
 */
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type LocalJWKSet, type RemoteJWKSet } from 'jose';
import type { Client } from '../../storage/storage.js';
import type { IssuerContext } from '../context.js';
import { invalidClient } from './method.js';

/** jose refetches a jwksURI on an unknown kid, at most once per cooldown; keys are kept this long. */
const REMOTE_KEYS = { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 } as const;

export type ClientKeySet = LocalJWKSet | RemoteJWKSet;

const keySetsByIssuer = new WeakMap<IssuerContext, Map<string, ClientKeySet>>();

function isRemote(set: ClientKeySet): set is RemoteJWKSet {
  return 'reload' in set;
}

/** The client's key set; invalid_client for a client that registered none (`method` names who needs them). */
export function clientKeySet(issuer: IssuerContext, client: Client, method: string): ClientKeySet {
  let sets = keySetsByIssuer.get(issuer);
  if (!sets) keySetsByIssuer.set(issuer, (sets = new Map()));
  const cacheKey = client.jwksURI ? `uri:${client.jwksURI}` : `jwks:${client.id}:${JSON.stringify(client.jwks ?? null)}`;
  let set = sets.get(cacheKey);
  if (!set) {
    if (client.jwksURI) set = createRemoteJWKSet(new URL(client.jwksURI), REMOTE_KEYS);
    else if (client.jwks) set = createLocalJWKSet(client.jwks as JSONWebKeySet);
    else throw invalidClient(`client "${client.id}" has no keys registered (jwks or jwksURI) for ${method}`);
    sets.set(cacheKey, set);
  }
  return set;
}

/**
 * The registered JWKS document itself (with members such as x5c that a key resolver does not use);
 * a remote one is fetched when it is not fresh, or with `refetch` unless it was fetched within the cooldown.
 */
export async function registeredJwks(set: ClientKeySet, options: { refetch?: boolean } = {}): Promise<JSONWebKeySet> {
  if (isRemote(set) && (!set.fresh || (options.refetch && !set.coolingDown))) await set.reload();
  return set.jwks() ?? { keys: [] };
}
