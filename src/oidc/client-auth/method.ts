/**
 * The seam every client authentication method implements: what a request presented (the method, the
 * client it names, the credential), how a method verifies it against the client, and the one way a
 * failure is answered (RFC 6749 §5.2 invalid_client, 401, with a Basic challenge when Basic was used).
 */
import type { TOKEN_ENDPOINT_AUTH_METHODS } from '../../config/schema.js';
import type { ClientCertificate } from '../../http/client-certificate.js';
import { verifySecret } from '../../storage/secrets.js';
import type { Client } from '../../storage/storage.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';

/** RFC 7591 token_endpoint_auth_method values idgate implements. */
export type ClientAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** A client assertion as it arrived (RFC 7523 §2.2): the compact JWT and its unverified header alg. */
export interface ClientAssertion {
  jwt: string;
  alg: string;
}

interface PresentedSecret<M> { method: M; clientId: string; secret: string }
interface PresentedAssertion<M> { method: M; clientId: string; assertion: ClientAssertion }

/** What a request presented: the method it used, the client it names, and the credential. */
export type PresentedCredentials =
  | PresentedSecret<'client_secret_basic'>
  | PresentedSecret<'client_secret_post'>
  | PresentedAssertion<'private_key_jwt'>
  | PresentedAssertion<'client_secret_jwt'>
  /** RFC 8705: the credential is the request's client certificate (VerifyContext.certificate). */
  | { method: 'tls_client_auth'; clientId: string }
  | { method: 'self_signed_tls_client_auth'; clientId: string }
  | { method: 'none'; clientId: string };

/** What verifying a credential may need beyond the client: the issuer and the endpoint being called. */
export interface VerifyContext {
  /** Absent where the caller passed no issuer: client assertions are then refused. */
  issuer: IssuerContext | undefined;
  /** The URL of the endpoint being called (an accepted assertion `aud`). */
  endpoint: string | undefined;
  /** The request's client certificate (RFC 8705), read only for the methods that use one. */
  certificate: () => ClientCertificate | undefined;
}

export type Presented<M extends ClientAuthMethod> = Extract<PresentedCredentials, { method: M }>;

/** Throws invalid_client unless the presented credential authenticates `client`. */
export type VerifyCredentials<M extends ClientAuthMethod> = (client: Client, presented: Presented<M>, context: VerifyContext) => Promise<void>;

export const BASIC_CHALLENGE = 'Basic realm="idgate"';

/** invalid_client; `basic` adds the challenge RFC 6749 §5.2 requires when the client used Basic. */
export function invalidClient(description: string, options: { basic?: boolean; cause?: unknown } = {}): OAuthError {
  return new OAuthError('invalid_client', description, {
    ...(options.basic ? { wwwAuthenticate: BASIC_CHALLENGE } : {}),
    ...(options.cause !== undefined ? { cause: options.cause } : {}),
  });
}

/** The stored hash is checked in constant time; a client without one (public, private_key_jwt) never matches. */
export function checkClientSecret(client: Client, secret: string, options: { basic: boolean }): void {
  if (client.secretHash === null || !verifySecret(secret, client.secretHash)) {
    throw invalidClient('client authentication failed', options);
  }
}
