/**
 * private_key_jwt (RFC 7523 §2.2, OIDC Core §9): a JWT the client signed with its private key,
 * verified with the public keys it registered, inline (`jwks`) or at `jwksURI`. Only asymmetric
 * algorithms from PRIVATE_KEY_JWT_ALGORITHMS verify: never "none", never an HMAC (which would
 * let a public key act as a shared secret).
 */
import { compactVerify, errors as joseErrors, type CompactVerifyGetKey } from 'jose';
import { PRIVATE_KEY_JWT_ALGORITHMS } from '../../config/client-auth.js';
import { assertionIssuer, checkAssertionClaims, parseClaims } from './client-assertion.js';
import { clientKeySet } from './client-keys.js';
import { invalidClient, type VerifyCredentials } from './method.js';

/** Why jose refused, in words for error_description; `unreachable` when the keys could not be fetched. */
function describeFailure(error: unknown): { reason: string; unreachable?: boolean } {
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return { reason: `client_assertion alg is not accepted for private_key_jwt (accepted: ${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')})` };
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return { reason: "no key of the client's registered keys matches the client_assertion (kid, alg)" };
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return { reason: 'client_assertion signature is invalid' };
  const unfetched = error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid
    || (error instanceof joseErrors.JOSEError && /JSON Web Key Set HTTP response/.test(error.message))
    || (error instanceof TypeError && /fetch/i.test(error.message));
  if (unfetched) {
    return { reason: "the client's keys could not be fetched from its jwksURI", unreachable: true };
  }
  if (error instanceof joseErrors.JOSEError) return { reason: `client_assertion could not be verified (${error.code})` };
  return { reason: 'client_assertion could not be verified' };
}

/** The JWS payload, trying each candidate key when several match (no kid in the header). */
async function verifySignature(jwt: string, keySet: CompactVerifyGetKey): Promise<Uint8Array> {
  const options = { algorithms: [...PRIVATE_KEY_JWT_ALGORITHMS] };
  try {
    return (await compactVerify(jwt, keySet, options)).payload;
  } catch (error) {
    if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return (await compactVerify(jwt, key, options)).payload;
      } catch (attempt) {
        if (!(attempt instanceof joseErrors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new joseErrors.JWSSignatureVerificationFailed();
  }
}

export const verifyPrivateKeyJwt: VerifyCredentials<'private_key_jwt'> = async (client, presented, context) => {
  const { issuer, endpoint } = assertionIssuer(context);
  const keySet = clientKeySet(issuer, client, 'private_key_jwt');
  let payload: Uint8Array;
  try {
    payload = await verifySignature(presented.assertion.jwt, keySet);
  } catch (error) {
    const { reason, unreachable } = describeFailure(error);
    if (unreachable) issuer.logger.warn({ clientId: client.id, err: { message: (error as Error).message } }, 'client jwksURI unreachable');
    throw invalidClient(reason, { cause: error });
  }
  await checkAssertionClaims(parseClaims(payload), client, { issuer, endpoint });
};
