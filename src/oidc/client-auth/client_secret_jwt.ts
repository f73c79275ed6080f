/**
 * client_secret_jwt (RFC 7523 §2.2, OIDC Core §9): a JWT MACed with HS256/384/512 under the octets of
 * the client secret. The MAC key is the secret itself, which storage never holds (only its hash), so
 * this works for clients from the config file, whose secret idgate already has in memory; a stored
 * client is refused with that reason. An HMAC key shorter than its hash output is refused (RFC 7518 §3.2).
 */
import { compactVerify, errors as joseErrors } from 'jose';
import { CLIENT_SECRET_JWT_ALGORITHMS, HMAC_KEY_BYTES } from '../../config/client-auth.js';
import type { Client } from '../../storage/storage.js';
import type { IssuerContext } from '../context.js';
import { assertionIssuer, checkAssertionClaims, parseClaims } from './client-assertion.js';
import { invalidClient, type VerifyCredentials } from './method.js';

/** The plaintext secret of a config-file client; stored clients have none to give. */
function staticSecret(issuer: IssuerContext, client: Client): Uint8Array {
  const secret = client.static ? issuer.config.staticClients.find((entry) => entry.id === client.id)?.secret : undefined;
  if (!secret) {
    throw invalidClient(`client "${client.id}" cannot use client_secret_jwt: idgate keeps only a hash of stored clients' secrets, and the MAC needs the secret itself (only staticClients can use it)`);
  }
  return new TextEncoder().encode(secret);
}

export const verifyClientSecretJwt: VerifyCredentials<'client_secret_jwt'> = async (client, presented, context) => {
  const { issuer, endpoint } = assertionIssuer(context);
  const key = staticSecret(issuer, client);
  const { alg } = presented.assertion;
  const needed = HMAC_KEY_BYTES[alg as keyof typeof HMAC_KEY_BYTES];
  if (needed !== undefined && key.byteLength < needed) {
    throw invalidClient(`the client secret is too short for ${alg} (at least ${needed} bytes)`);
  }
  let payload: Uint8Array;
  try {
    payload = (await compactVerify(presented.assertion.jwt, key, { algorithms: [...CLIENT_SECRET_JWT_ALGORITHMS] })).payload;
  } catch (error) {
    throw invalidClient(error instanceof joseErrors.JWSSignatureVerificationFailed
      ? 'client_assertion signature is invalid'
      : 'client_assertion could not be verified', { cause: error });
  }
  await checkAssertionClaims(parseClaims(payload), client, { issuer, endpoint });
};
