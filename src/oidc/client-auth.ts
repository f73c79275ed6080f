/**
 * Client authentication at the token endpoint (RFC 6749 §2.3): client_secret_basic (with the §2.3.1
 * form-urlencoding of id and secret), client_secret_post, or a public client's bare client_id.
 * Secrets are compared against their stored hash in constant time. Every failure is invalid_client
 * (401, with a Basic challenge when Basic was used), except a malformed request: invalid_request.
 */
import type { Context } from 'koa';
import { verifySecret } from '../storage/secrets.js';
import type { Client, Storage } from '../storage/storage.js';
import { OAuthError } from './errors.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

export interface AuthenticatedClient {
  client: Client;
  method: ClientAuthMethod;
}

const BASIC_CHALLENGE = 'Basic realm="idgate"';

interface PresentedCredentials {
  clientId: string;
  secret: string | undefined;
  method: ClientAuthMethod;
}

/** RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before Basic encoding. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw new OAuthError('invalid_client', 'malformed Basic credentials', { wwwAuthenticate: BASIC_CHALLENGE });
  }
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'malformed Basic credentials', { wwwAuthenticate: BASIC_CHALLENGE });
  }
}

function presentedCredentials(ctx: Context, form: Record<string, string>): PresentedCredentials {
  const header = ctx.get('authorization');
  if (header && /^basic /i.test(header)) {
    if (form.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'use one client authentication method, not Basic and client_secret together');
    }
    const { clientId, secret } = parseBasic(header);
    if (form.client_id !== undefined && form.client_id !== clientId) {
      throw new OAuthError('invalid_request', 'client_id in the body does not match the Basic credentials');
    }
    return { clientId, secret, method: 'client_secret_basic' };
  }
  if (!form.client_id) throw new OAuthError('invalid_client', 'client authentication is required', { wwwAuthenticate: BASIC_CHALLENGE });
  if (form.client_secret !== undefined) return { clientId: form.client_id, secret: form.client_secret, method: 'client_secret_post' };
  return { clientId: form.client_id, secret: undefined, method: 'none' };
}

/**
 * The client id a request names (Basic user name, else the form's client_id), for the audit even
 * when authentication fails; undefined when none can be read. Never throws, never reads the secret out.
 */
export function presentedClientId(ctx: Context, form: Record<string, string>): string | undefined {
  try {
    return presentedCredentials(ctx, form).clientId;
  } catch {
    return form.client_id;
  }
}

/** Authenticates the client of a token request, or throws invalid_client / invalid_request. */
export async function authenticateClient(ctx: Context, form: Record<string, string>, storage: Storage): Promise<AuthenticatedClient> {
  const presented = presentedCredentials(ctx, form);
  const challenge = presented.method === 'client_secret_basic' ? { wwwAuthenticate: BASIC_CHALLENGE } : {};
  const refuse = () => new OAuthError('invalid_client', 'client authentication failed', challenge);
  const client = await storage.clients.get(presented.clientId);
  if (!client) throw refuse();
  if (client.public) {
    // A public client has no secret; Dex's public clients send an empty one, which we accept too.
    if (presented.secret) throw refuse();
    return { client, method: 'none' };
  }
  if (presented.secret === undefined || client.secretHash === null || !verifySecret(presented.secret, client.secretHash)) {
    throw refuse();
  }
  return { client, method: presented.method };
}
