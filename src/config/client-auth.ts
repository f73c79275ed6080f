/**
 * How a static client may authenticate, checked once when the config is read: the method fits the
 * client (a public client uses none; private_key_jwt has public keys, inline or at one URL; a secret
 * method has a secret), and every inline key is a public key that private_key_jwt can verify with.
 * The algorithm lists live here because config and the token endpoint must agree on them.
 */
import { createPublicKey } from 'node:crypto';

/** Asymmetric only: never "none", never an HMAC (a public key must not become a shared secret). */
export const PRIVATE_KEY_JWT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
export const CLIENT_SECRET_JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** RFC 7518 §3.2: an HMAC key at least as long as the hash output. */
export const HMAC_KEY_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const;

/** The key type (and curve) each private_key_jwt algorithm verifies with. */
const KEY_TYPE_OF: Record<(typeof PRIVATE_KEY_JWT_ALGORITHMS)[number], { kty: string; crv?: string }> = {
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

const CURVE_OF: Record<string, string> = { EC: 'P-256', OKP: 'Ed25519' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const MIN_RSA_BITS = 2048;

/** The parts of a static client (as the schema reads it) that decide its authentication. */
export interface ClientAuthSettings {
  public: boolean;
  secret?: string;
  secretEnv?: string;
  tokenEndpointAuthMethod?: string;
  jwks?: { keys: Array<Record<string, unknown>> };
  jwksURI?: string;
}

export interface ClientAuthIssue {
  path: Array<string | number>;
  message: string;
}

function jwkIssues(jwk: Record<string, unknown>, at: Array<string | number>): ClientAuthIssue[] {
  const issue = (path: Array<string | number>, message: string) => [{ path: [...at, ...path], message }];
  const { kty, alg, use, crv } = jwk;
  if (typeof kty !== 'string') return issue(['kty'], 'is required (RSA, EC or OKP)');
  if (kty === 'oct') return issue([], 'is a symmetric key: private_key_jwt verifies with public keys (a shared secret is client_secret_jwt)');
  const secretPart = PRIVATE_MEMBERS.find((member) => member in jwk);
  if (secretPart) return issue([], `is a private key (it has "${secretPart}"): register only the public key`);
  if (!(kty in CURVE_OF) && kty !== 'RSA') return issue(['kty'], `key type "${kty}" is not supported (RSA, EC or OKP)`);
  if (use !== undefined && use !== 'sig') return issue(['use'], 'must be "sig": the key verifies client assertions');
  if (alg !== undefined) {
    const fits = KEY_TYPE_OF[alg as keyof typeof KEY_TYPE_OF];
    if (!fits) return issue(['alg'], `is not accepted for private_key_jwt (one of: ${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')})`);
    if (fits.kty !== kty) return issue(['alg'], `${String(alg)} is for ${fits.kty} keys, this one is ${kty}`);
  }
  const curve = CURVE_OF[kty];
  if (curve && crv !== curve) return issue(['crv'], `must be ${curve} (the only ${kty} curve private_key_jwt accepts)`);
  try {
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (kty === 'RSA' && (bits ?? 0) < MIN_RSA_BITS) return issue([], `an RSA key needs at least ${MIN_RSA_BITS} bits (this one has ${bits})`);
  } catch (error) {
    return issue([], `is not a usable public key (${(error as Error).message})`);
  }
  return [];
}

/** Every problem with how this static client authenticates; paths are relative to the client. */
export function clientAuthIssues(client: ClientAuthSettings): ClientAuthIssue[] {
  const method = client.tokenEndpointAuthMethod;
  const issues: ClientAuthIssue[] = [];
  if (client.public && method !== undefined && method !== 'none') {
    issues.push({ path: ['tokenEndpointAuthMethod'], message: 'a public client authenticates with none (it has no secret or keys)' });
  }
  if (!client.public && method === 'none') {
    issues.push({ path: ['tokenEndpointAuthMethod'], message: 'none is for public clients: set public: true, or choose a method that authenticates' });
  }
  const keyFields = (['jwks', 'jwksURI'] as const).filter((field) => client[field] !== undefined);
  if (method === 'private_key_jwt') {
    if (keyFields.length === 0) issues.push({ path: ['tokenEndpointAuthMethod'], message: "private_key_jwt needs the client's public keys: set jwks or jwksURI" });
    if (keyFields.length === 2) issues.push({ path: ['jwksURI'], message: 'set jwks or jwksURI, not both' });
    for (const field of ['secret', 'secretEnv'] as const) {
      if (client[field] !== undefined) issues.push({ path: [field], message: 'a private_key_jwt client authenticates with its keys, not a secret: remove it' });
    }
    client.jwks?.keys.forEach((jwk, index) => issues.push(...jwkIssues(jwk, ['jwks', 'keys', index])));
  } else {
    for (const field of keyFields) {
      issues.push({ path: [field], message: 'is used only with tokenEndpointAuthMethod: private_key_jwt' });
    }
  }
  return issues;
}

/** A client_secret_jwt secret must be usable as an HS256 key (checked once secretEnv is read, too). */
export function clientSecretJwtProblem(secret: string): string | undefined {
  const bytes = Buffer.byteLength(secret, 'utf8');
  return bytes < HMAC_KEY_BYTES.HS256
    ? `client_secret_jwt uses the secret as an HMAC key, which needs at least ${HMAC_KEY_BYTES.HS256} bytes (this one has ${bytes})`
    : undefined;
}
