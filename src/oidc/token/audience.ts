/**
 * The audience (`aud`) of the tokens client_credentials and token exchange issue, decided in one place:
 * the targets a request names (RFC 8707 `resource`, RFC 8693 `audience`) and Dex's cross-client scopes. A target is allowed when it is the client
 * itself, a client that trusts it (the peer lists it in trustedPeers: Dex's model, the same rule as
 * `audience:server:client_id:<peer>`), or one of the client's registered `resources`; anything else
 * is invalid_target (RFC 8693 §2.2.2, RFC 8707 §2).
 */
import type { Client, Storage } from '../../storage/storage.js';
import { OAuthError } from '../errors.js';
import { requestedResources } from '../resources.js';
import { resolveAudience, trustsClient, type ParsedScopes } from '../scopes.js';

/**
 * The targets a token request names: RFC 8707 `resource` values (each registered for the client, see
 * resources.ts) and the RFC 8693 `audience` (one value: the form reader refuses a repeated one).
 */
export function requestedTargets(client: Client, form: Record<string, string>): string[] {
  return [...requestedResources(client, form.resource), ...(form.audience ? [form.audience] : [])];
}

async function checkTarget(storage: Storage, client: Client, target: string): Promise<void> {
  if (client.resources?.includes(target)) return;
  if (await trustsClient(storage, target, client.id)) return;
  // The target is the client's free text, so it is not echoed.
  throw new OAuthError('invalid_target', `the requested audience is not allowed for client "${client.id}": it must be a client that lists "${client.id}" in its trustedPeers, or one of its resources`);
}

/**
 * The `aud` for a token issued to `client`. Without targets, Dex's: the client plus the peers its
 * cross-client scopes name. With targets, those targets (and any cross-client peers) only: a token
 * asked for another audience is not also good at the client itself.
 */
export async function grantAudience(storage: Storage, client: Client, scopes: ParsedScopes, targets: readonly string[]): Promise<string[]> {
  if (targets.length === 0) return resolveAudience(storage, client.id, scopes);
  const audience: string[] = [];
  for (const target of [...targets, ...scopes.peers]) {
    if (audience.includes(target)) continue;
    await checkTarget(storage, client, target);
    audience.push(target);
  }
  return audience;
}
