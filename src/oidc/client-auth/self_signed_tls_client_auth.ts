/**
 * self_signed_tls_client_auth (RFC 8705 §2.2): the client's certificate, self-signed or not, is one it
 * registered as the first x5c entry of a key in its jwks (inline or at jwksURI); no CA is consulted.
 * Compared by SHA-256 of the DER, so a proxy's XFCC `Hash=` alone is enough. An unknown certificate
 * refetches a jwksURI once (at most once per cooldown), so a client can roll its certificate.
 */
import { certificateThumbprint } from '../../http/client-certificate.js';
import { clientKeySet, registeredJwks } from './client-keys.js';
import { invalidClient, type VerifyCredentials } from './method.js';

function registeredThumbprints(jwks: { keys: ReadonlyArray<{ x5c?: unknown }> }): string[] {
  return jwks.keys.flatMap((key) => {
    const first = Array.isArray(key.x5c) ? key.x5c[0] : undefined;
    return typeof first === 'string' ? [certificateThumbprint(Buffer.from(first, 'base64'))] : [];
  });
}

export const verifySelfSignedTlsClientAuth: VerifyCredentials<'self_signed_tls_client_auth'> = async (client, _presented, context) => {
  if (!context.issuer) throw invalidClient('self_signed_tls_client_auth is not accepted at this endpoint');
  const presented = context.certificate();
  if (!presented) throw invalidClient('self_signed_tls_client_auth needs a client certificate: send the request over mutual TLS');
  const keySet = clientKeySet(context.issuer, client, 'self_signed_tls_client_auth');
  try {
    if (registeredThumbprints(await registeredJwks(keySet)).includes(presented.thumbprint)) return;
    if (registeredThumbprints(await registeredJwks(keySet, { refetch: true })).includes(presented.thumbprint)) return;
  } catch (error) {
    context.issuer.logger.warn({ clientId: client.id, err: { message: (error as Error).message } }, 'client jwksURI unreachable');
    throw invalidClient("the client's certificates could not be fetched from its jwksURI", { cause: error });
  }
  throw invalidClient(`the client certificate is not one registered for client "${client.id}" (x5c of its jwks)`);
};
