/**
 * Client authentication for every endpoint that needs it (RFC 6749 §2.3, RFC 7523 §2.2, OIDC Core §9,
 * RFC 8705 §2 for the certificate methods, which a client pinned to one uses by sending only client_id):
 * reads which one method the request used, finds the client, holds the method to the client's own
 * (its tokenEndpointAuthMethod; unpinned, a confidential client uses Basic or post and a public one
 * none), then lets that method's file verify the credential. Failures are invalid_client (401, with a
 * Basic challenge when Basic was used); a malformed request, such as two methods at once, invalid_request.
 */
import type { Context } from 'koa';
import { CLIENT_SECRET_JWT_ALGORITHMS, PRIVATE_KEY_JWT_ALGORITHMS } from '../../config/client-auth.js';
import { clientCertificatesArrive } from '../../config/client-certificates.js';
import type { Config } from '../../config/load.js';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../../config/schema.js';
import type { Client, Storage } from '../../storage/storage.js';
import { requestCertificate } from '../client-certificate.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { readClientAssertion } from './client-assertion.js';
import { readBasic, verifyClientSecretBasic } from './client_secret_basic.js';
import { verifyClientSecretJwt } from './client_secret_jwt.js';
import { readSecretPost, verifyClientSecretPost } from './client_secret_post.js';
import { invalidClient, type ClientAuthMethod, type PresentedCredentials, type VerifyContext } from './method.js';
import { verifyNone } from './none.js';
import { verifyPrivateKeyJwt } from './private_key_jwt.js';
import { verifySelfSignedTlsClientAuth } from './self_signed_tls_client_auth.js';
import { verifyTlsClientAuth } from './tls_client_auth.js';

export type { ClientAuthMethod } from './method.js';

/** Every method idgate verifies. */
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = TOKEN_ENDPOINT_AUTH_METHODS;

/**
 * The methods this config can serve, which discovery advertises: the certificate methods only where
 * a client certificate can arrive, tls_client_auth only with CAs to check it against.
 */
export function supportedClientAuthMethods(config: Config): readonly ClientAuthMethod[] {
  return CLIENT_AUTH_METHODS.filter((method) => {
    if (method === 'tls_client_auth') return config.web.tlsClientCA !== undefined && clientCertificatesArrive(config.web);
    return method !== 'self_signed_tls_client_auth' || clientCertificatesArrive(config.web);
  });
}

/** The algorithms a client assertion may be signed with: private_key_jwt's, then client_secret_jwt's. */
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = [...PRIVATE_KEY_JWT_ALGORITHMS, ...CLIENT_SECRET_JWT_ALGORITHMS];

export interface AuthenticatedClient {
  client: Client;
  method: ClientAuthMethod;
}

export interface ClientAuthOptions {
  /**
   * The issuer whose endpoint is called. Client assertions (private_key_jwt, client_secret_jwt) need it
   * (its URL for `aud`, its clock, its replay store, the static clients' secrets) and are refused
   * without it; the endpoint URL is its issuer URL plus the request's path below the issuer path.
   */
  issuer: IssuerContext;
}

/**
 * What the request presented, read once per request and form (every endpoint asks presentedClientId
 * for its audit line, then authenticateClient): kept on ctx.state, as readForm keeps the form.
 */
function presentedCredentials(ctx: Context, form: Record<string, string>): PresentedCredentials {
  const state = ctx.state as { presentedCredentials?: { form: Record<string, string>; presented: PresentedCredentials } };
  if (state.presentedCredentials?.form === form) return state.presentedCredentials.presented;
  const presented = readPresentedCredentials(ctx, form);
  state.presentedCredentials = { form, presented };
  return presented;
}

/** The one method the request used; more than one is invalid_request (RFC 6749 §2.3). */
function readPresentedCredentials(ctx: Context, form: Record<string, string>): PresentedCredentials {
  const header = ctx.get('authorization');
  const scheme = /^([A-Za-z][A-Za-z0-9-]{0,19})(?: |$)/.exec(header)?.[1];
  if (header && scheme?.toLowerCase() !== 'basic') {
    throw invalidClient(scheme
      ? `the ${scheme} Authorization scheme does not authenticate clients here (Basic is client_secret_basic)`
      : 'the Authorization header does not authenticate clients here (Basic is client_secret_basic)');
  }
  const basic = readBasic(ctx);
  const post = readSecretPost(form);
  const assertion = readClientAssertion(form);
  const used = [basic && 'client_secret_basic', post && 'client_secret_post', assertion && 'client assertion'].filter(Boolean);
  if (used.length > 1) throw new OAuthError('invalid_request', `use one client authentication method, not ${used.join(' and ')}`);
  if (basic) {
    if (form.client_id !== undefined && form.client_id !== basic.clientId) {
      throw new OAuthError('invalid_request', 'client_id in the body does not match the Basic credentials');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (post?.clientId) return { method: 'client_secret_post', clientId: post.clientId, secret: post.secret };
  if (assertion) return assertion;
  if (!form.client_id) throw invalidClient('client authentication is required', { basic: true });
  return { method: 'none', clientId: form.client_id };
}

/**
 * The client id a request names (Basic user name, the form's client_id, an assertion's sub), for the
 * audit even when authentication fails; undefined when none can be read. Never throws, verifies nothing.
 */
export function presentedClientId(ctx: Context, form: Record<string, string>): string | undefined {
  try {
    return presentedCredentials(ctx, form).clientId;
  } catch {
    return form.client_id;
  }
}

/** The methods this client may use. */
function allowedMethods(client: Client): readonly ClientAuthMethod[] {
  if (client.tokenEndpointAuthMethod) return [client.tokenEndpointAuthMethod as ClientAuthMethod];
  return client.public ? ['none'] : ['client_secret_basic', 'client_secret_post'];
}

function checkMethodAllowed(client: Client, method: ClientAuthMethod): void {
  const allowed = allowedMethods(client);
  if (allowed.includes(method)) return;
  const why = client.tokenEndpointAuthMethod ? 'its tokenEndpointAuthMethod' : client.public ? 'a public client' : 'no tokenEndpointAuthMethod is set';
  throw invalidClient(`client "${client.id}" must authenticate with ${allowed.join(' or ')} (${why}), not ${method}`, {
    basic: method === 'client_secret_basic',
  });
}

function verify(client: Client, presented: PresentedCredentials, context: VerifyContext): Promise<void> {
  switch (presented.method) {
    case 'client_secret_basic': return verifyClientSecretBasic(client, presented, context);
    case 'client_secret_post': return verifyClientSecretPost(client, presented, context);
    case 'client_secret_jwt': return verifyClientSecretJwt(client, presented, context);
    case 'private_key_jwt': return verifyPrivateKeyJwt(client, presented, context);
    case 'tls_client_auth': return verifyTlsClientAuth(client, presented, context);
    case 'self_signed_tls_client_auth': return verifySelfSignedTlsClientAuth(client, presented, context);
    case 'none': return verifyNone(client, presented, context);
  }
}

/** Authenticates the client of a request, or throws invalid_client / invalid_request. */
export async function authenticateClient(
  ctx: Context,
  form: Record<string, string>,
  storage: Storage,
  options?: ClientAuthOptions,
): Promise<AuthenticatedClient> {
  let presented = presentedCredentials(ctx, form);
  const client = await storage.clients.get(presented.clientId);
  if (!client) throw invalidClient('client authentication failed', { basic: presented.method === 'client_secret_basic' });
  // Dex's public clients send an empty secret; that is no credential at all.
  if (client.public && 'secret' in presented && presented.secret === '') presented = { method: 'none', clientId: client.id };
  // A client that authenticates with its certificate names itself with client_id alone (RFC 8705 §2).
  const pinned = client.tokenEndpointAuthMethod;
  if (presented.method === 'none' && (pinned === 'tls_client_auth' || pinned === 'self_signed_tls_client_auth')) {
    presented = { method: pinned, clientId: client.id };
  }
  checkMethodAllowed(client, presented.method);
  const issuer = options?.issuer;
  const endpoint = issuer ? `${issuer.issuer}${ctx.path.slice(issuer.basePath.length)}` : undefined;
  const certificate = () => (issuer ? requestCertificate(issuer, ctx) : undefined);
  await verify(client, presented, { issuer, endpoint, certificate });
  return { client, method: presented.method };
}
