/**
 * RFC 8707 resource indicators, in one place for every endpoint that takes `resource` (/auth, /par,
 * /token): each value is an absolute URI without a fragment, the client must list it in its
 * `resources`, a token request may only narrow what the authorization granted, and the access token's
 * `aud` is the resources when there are any. Every refusal is `invalid_target` (RFC 8707 §2).
 */
import { listParam } from '../http/form.js';
import type { Client } from '../storage/storage.js';
import { OAuthError } from './errors.js';

/** RFC 8707 §2: an absolute URI, no fragment (a query is allowed, though discouraged). */
function isResourceIndicator(value: string): boolean {
  if (!URL.canParse(value)) return false;
  return !value.includes('#');
}

/**
 * The resources a request asks for (`resource`, repeatable; see http/form.ts), each well-formed and
 * registered for `client`; [] when none. Duplicates are dropped, order is kept.
 */
export function requestedResources(client: Client, value: string | undefined): string[] {
  const resources = [...new Set(listParam(value))];
  for (const resource of resources) {
    if (!isResourceIndicator(resource)) {
      throw new OAuthError('invalid_target', `resource "${resource}" is not an absolute URI without a fragment`);
    }
    if (!(client.resources ?? []).includes(resource)) {
      throw new OAuthError('invalid_target', `client "${client.id}" may not ask for resource "${resource}" (its resources)`);
    }
  }
  return resources;
}

/**
 * The resources a token request gets from a grant that allowed `granted`: all of them when it names
 * none, else the ones it names, each of which must be granted (RFC 8707 §2.2: downscoping only). A
 * resource the client may no longer use (its `resources` changed) is refused too.
 */
export function tokenResources(client: Client, granted: readonly string[], value: string | undefined): string[] {
  const requested = requestedResources(client, value);
  if (requested.length === 0) return granted.filter((resource) => (client.resources ?? []).includes(resource));
  const beyond = requested.filter((resource) => !granted.includes(resource));
  if (beyond.length > 0) {
    throw new OAuthError('invalid_target', `resource(s) not granted by the authorization: ${beyond.join(' ')}`);
  }
  return requested;
}

/** The access token's `aud`: the resources when there are any, otherwise the client's audience. */
export function accessTokenAudience(resources: readonly string[] | undefined, audience: readonly string[]): string[] {
  return resources && resources.length > 0 ? [...resources] : [...audience];
}
