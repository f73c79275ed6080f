/**
 * How a static client may authenticate, checked once when the config is read: the method fits the
 * client (a public client uses none; private_key_jwt has public keys, inline or at one URL; a secret
 * method has a secret; tls_client_auth names exactly one certificate name; self_signed_tls_client_auth
 * registers its certificates in x5c), and every inline key is a public key the method can use.
 * The algorithm lists live here because config and the token endpoint must agree on them.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { parseDistinguishedName, SAN_KINDS, type SanKind } from '../oidc/client-auth/certificate-names.js';

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
  tlsClientAuthSubjectDN?: string;
  tlsClientAuthSANDNS?: string;
  tlsClientAuthSANURI?: string;
  tlsClientAuthSANIP?: string;
  tlsClientAuthSANEmail?: string;
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
  if (method === 'private_key_jwt' || method === 'self_signed_tls_client_auth') {
    const keys = method === 'private_key_jwt' ? "the client's public keys" : "the client's certificates (x5c)";
    if (keyFields.length === 0) issues.push({ path: ['tokenEndpointAuthMethod'], message: `${method} needs ${keys}: set jwks or jwksURI` });
    if (keyFields.length === 2) issues.push({ path: ['jwksURI'], message: 'set jwks or jwksURI, not both' });
    const check = method === 'private_key_jwt' ? jwkIssues : certificateJwkIssues;
    client.jwks?.keys.forEach((jwk, index) => issues.push(...check(jwk, ['jwks', 'keys', index])));
  } else {
    for (const field of keyFields) {
      issues.push({ path: [field], message: 'is used only with tokenEndpointAuthMethod: private_key_jwt or self_signed_tls_client_auth' });
    }
  }
  if (method && SECRETLESS.includes(method)) {
    for (const field of ['secret', 'secretEnv'] as const) {
      if (client[field] !== undefined) issues.push({ path: [field], message: `a ${method} client authenticates with its ${method === 'private_key_jwt' ? 'keys' : 'certificate'}, not a secret: remove it` });
    }
  }
  issues.push(...tlsNameIssues(client));
  return issues;
}

const SECRETLESS: readonly string[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

const TLS_NAME_FIELDS = ['tlsClientAuthSubjectDN', ...(Object.keys(SAN_KINDS) as SanKind[])] as const;

/** What makes a registered tls_client_auth name unusable; undefined when it is fine. */
function tlsNameProblem(field: (typeof TLS_NAME_FIELDS)[number], value: string): string | undefined {
  switch (field) {
    case 'tlsClientAuthSubjectDN':
      try {
        parseDistinguishedName(value);
        return undefined;
      } catch (error) {
        return `not an RFC 4514 DN such as "CN=client,O=Example" (${(error as Error).message})`;
      }
    case 'tlsClientAuthSANIP':
      return isIP(value) ? undefined : 'not an IP address';
    case 'tlsClientAuthSANURI':
      return URL.canParse(value) ? undefined : 'not an absolute URI';
    case 'tlsClientAuthSANDNS':
      return /^(?!-)[A-Za-z0-9*-]{1,63}(?:\.(?!-)[A-Za-z0-9-]{1,63})*$/.test(value) ? undefined : 'not a DNS name';
    case 'tlsClientAuthSANEmail':
      return /^[^@\s]+@[^@\s]+$/.test(value) ? undefined : 'not an email address';
  }
}

/** RFC 8705 §2.1.2: a tls_client_auth client registers exactly one name; no other method uses one. */
function tlsNameIssues(client: ClientAuthSettings): ClientAuthIssue[] {
  const set = TLS_NAME_FIELDS.filter((field) => client[field] !== undefined);
  if (client.tokenEndpointAuthMethod !== 'tls_client_auth') {
    return set.map((field) => ({ path: [field], message: 'is used only with tokenEndpointAuthMethod: tls_client_auth' }));
  }
  if (set.length === 0) {
    return [{ path: ['tokenEndpointAuthMethod'], message: `tls_client_auth needs the name the client's certificate carries: set one of ${TLS_NAME_FIELDS.join(', ')}` }];
  }
  const issues: ClientAuthIssue[] = set.slice(1).map((field) => ({ path: [field], message: `set one of ${TLS_NAME_FIELDS.join(', ')}, not several (${set[0]} is set)` }));
  for (const field of set) {
    const problem = tlsNameProblem(field, client[field]!);
    if (problem) issues.push({ path: [field], message: problem });
  }
  return issues;
}

/**
 * A self_signed_tls_client_auth key: a public key whose x5c[0] is the client's certificate, with that
 * certificate's public key (RFC 8705 §2.2.2). The certificate's own signature is not checked: it is self-signed.
 */
function certificateJwkIssues(jwk: Record<string, unknown>, at: Array<string | number>): ClientAuthIssue[] {
  const secretPart = PRIVATE_MEMBERS.find((member) => member in jwk);
  if (secretPart) return [{ path: at, message: `is a private key (it has "${secretPart}"): register only the public key` }];
  const x5c = jwk.x5c;
  if (!Array.isArray(x5c) || typeof x5c[0] !== 'string') {
    return [{ path: [...at, 'x5c'], message: "is required: the base64 DER of the client's certificate (self_signed_tls_client_auth matches it)" }];
  }
  try {
    const certificate = new X509Certificate(Buffer.from(x5c[0], 'base64'));
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    if (!certificate.publicKey.equals(key)) return [{ path: [...at, 'x5c', 0], message: "the certificate's public key is not this key's" }];
  } catch (error) {
    return [{ path: at, message: `is not a usable public key with its certificate (${(error as Error).message})` }];
  }
  return [];
}

/** A client_secret_jwt secret must be usable as an HS256 key (checked once secretEnv is read, too). */
export function clientSecretJwtProblem(secret: string): string | undefined {
  const bytes = Buffer.byteLength(secret, 'utf8');
  return bytes < HMAC_KEY_BYTES.HS256
    ? `client_secret_jwt uses the secret as an HMAC key, which needs at least ${HMAC_KEY_BYTES.HS256} bytes (this one has ${bytes})`
    : undefined;
}
