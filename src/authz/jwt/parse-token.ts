/**
 * Reads a JWS compact serialization strictly, before any key is looked at: at most 60 KiB, three
 * non-empty parts, each the canonical unpadded base64url of its bytes, a JSON-object header and
 * payload, no `crit` header (idgate understands no JWS extension, RFC 7515 §4.1.11), and no explicit
 * type of another kind of JWT (RFC 8725 §3.11): a signed introspection answer, a logout token, a DPoP
 * proof or a security event carries the issuer's signature too, and must never pass as a bearer token.
 */
import type { JWTPayload } from 'jose';
import { JwtError } from './jwt-error.js';

/**
 * Envoy's default request-header limit (max_request_headers_kb: 60). A token larger than every header
 * Envoy would accept together is refused before it is decoded. Counted in characters: a token that
 * is not ASCII fails the base64url rule anyway.
 */
export const MAX_TOKEN_LENGTH = 60 * 1024;

export interface ProtectedHeader {
  alg?: unknown;
  kid?: unknown;
  [name: string]: unknown;
}

export interface ParsedToken {
  header: ProtectedHeader;
  payload: JWTPayload;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/**
 * `typ` values a bearer token may carry: none, `JWT` (ID tokens and most issuers' access tokens, which
 * Istio accepts) and RFC 9068's `at+jwt` (with or without the `application/` prefix, compared without
 * case, RFC 7515 §4.1.9). Any other explicit type (`token-introspection+jwt`, `logout+jwt`,
 * `dpop+jwt`, `secevent+jwt`...) names a JWT that is not an access token.
 */
const BEARER_TYPES: ReadonlySet<string> = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt']);

/** Refuses a token over MAX_TOKEN_LENGTH: the first check, before the cache or any decoding. */
export function checkTokenSize(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError('ERR_JWT_TOO_LARGE');
}

export function parseToken(token: string): ParsedToken {
  checkTokenSize(token);
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) throw new JwtError('ERR_JWT_MALFORMED');
  const header = acceptedHeader(token.slice(0, first));
  const payload = decodeJsonObject(token.slice(first + 1, second)) as JWTPayload;
  return { header, payload, signingInput: token.slice(0, second), signature: decodeBase64url(token.slice(second + 1)) };
}

/**
 * Headers that passed the checks below, by their encoded text: an issuer's tokens share a few
 * (one per key and type), so a new token's header is usually read once per key, not once per token.
 * Frozen, since every token with that text shares the object. Bounded: emptied when full.
 */
const acceptedHeaders = new Map<string, ProtectedHeader>();
const MAX_ACCEPTED_HEADERS = 256;

function acceptedHeader(encoded: string): ProtectedHeader {
  const known = acceptedHeaders.get(encoded);
  if (known) return known;
  const header = decodeJsonObject(encoded) as ProtectedHeader;
  // Any crit is refused, well-formed or not: a list of names idgate does not implement, or a value
  // RFC 7515 forbids (not a non-empty array of strings, or naming a header the RFC defines).
  if (Object.hasOwn(header, 'crit')) throw new JwtError('ERR_JWT_CRIT');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !BEARER_TYPES.has(header.typ.toLowerCase()))) throw new JwtError('ERR_JWT_TYPE');
  if (acceptedHeaders.size >= MAX_ACCEPTED_HEADERS) acceptedHeaders.clear();
  acceptedHeaders.set(encoded, Object.freeze(header));
  return header;
}

/**
 * Strict base64url: Buffer.from(x, 'base64url') skips characters outside the alphabet, accepts "+", "/"
 * and "=" and ignores a dangling sixth bit group, so the part is re-encoded and must come back
 * unchanged. That admits only A-Z a-z 0-9 - _, no padding, no length of 1 mod 4, and zero unused bits
 * in the last character (one spelling per byte string, so a token cannot be respelled).
 */
export function decodeBase64url(part: string): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  if (part.length === 0 || bytes.toString('base64url') !== part) throw new JwtError('ERR_JWT_MALFORMED');
  return bytes;
}

function decodeJsonObject(part: string): object {
  const bytes = decodeBase64url(part);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new JwtError('ERR_JWT_MALFORMED');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError('ERR_JWT_MALFORMED');
  return value;
}
