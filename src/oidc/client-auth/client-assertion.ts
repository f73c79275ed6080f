/**
 * What private_key_jwt and client_secret_jwt share (RFC 7521 §4.2, RFC 7523 §2.2 and §3, OIDC Core §9):
 * reading client_assertion from the form, and the checks on its claims once its signature is verified:
 * iss = sub = the client, aud naming this issuer (its issuer identifier, as draft-ietf-oauth-rfc7523bis
 * asks clients to send, or the endpoint URL, as RFC 7523 allowed), a short validity window, and a jti
 * used once. Replay is refused through storage, so a second replica refuses it too.
 */
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { CLIENT_SECRET_JWT_ALGORITHMS } from '../../config/client-auth.js';
import type { Client } from '../../storage/storage.js';
import type { IssuerContext } from '../context.js';
import { OAuthError } from '../errors.js';
import { invalidClient, type Presented, type VerifyContext } from './method.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Assertion types registered elsewhere, named when refused; any other value is not echoed. */
const KNOWN_ASSERTION_TYPES: Record<string, string> = {
  'urn:ietf:params:oauth:client-assertion-type:saml2-bearer': 'SAML 2.0 bearer assertions (RFC 7522)',
};

/** How far apart our clock and the client's may be (exp, nbf, iat). */
export const CLOCK_SKEW_S = 30;
/** The longest an assertion may still be valid: it proves one request, so minutes are plenty. */
export const MAX_ASSERTION_LIFETIME_S = 300;

const REPLAY_NAMESPACE = 'client-assertion';

type AssertionMethod = 'private_key_jwt' | 'client_secret_jwt';

/**
 * The client assertion of the request, or undefined when it sends none. The method follows from the
 * header's alg: an HMAC is client_secret_jwt, anything else private_key_jwt (whose own alg list then
 * decides); alg "none" is refused here. The client is the form's client_id, else the assertion's sub.
 */
export function readClientAssertion(form: Record<string, string>): Presented<AssertionMethod> | undefined {
  const { client_assertion: jwt, client_assertion_type: type } = form;
  if (jwt === undefined && type === undefined) return undefined;
  if (type === undefined) throw new OAuthError('invalid_request', 'client_assertion_type is required with client_assertion');
  if (type !== JWT_BEARER_ASSERTION) {
    const known = KNOWN_ASSERTION_TYPES[type];
    throw invalidClient(known
      ? `client_assertion_type ${type} (${known}) is not supported; use ${JWT_BEARER_ASSERTION}`
      : `this client_assertion_type is not supported; use ${JWT_BEARER_ASSERTION}`);
  }
  if (!jwt) throw new OAuthError('invalid_request', 'client_assertion is required with client_assertion_type');
  let alg: unknown;
  let claims: JWTPayload;
  try {
    alg = decodeProtectedHeader(jwt).alg;
    claims = decodeJwt(jwt);
  } catch {
    throw invalidClient('client_assertion is not a signed JWT');
  }
  if (typeof alg !== 'string' || alg === 'none') throw invalidClient('client_assertion must be signed (alg "none" is refused)');
  const clientId = form.client_id ?? claims.sub;
  if (typeof clientId !== 'string' || clientId === '') throw invalidClient('client_assertion names no client (no client_id and no sub)');
  const assertion = { jwt, alg };
  return (CLIENT_SECRET_JWT_ALGORITHMS as readonly string[]).includes(alg)
    ? { method: 'client_secret_jwt', clientId, assertion }
    : { method: 'private_key_jwt', clientId, assertion };
}

/** The issuer, or a refusal where the caller gave none (an endpoint that cannot check an audience). */
export function assertionIssuer(context: VerifyContext): { issuer: IssuerContext; endpoint: string | undefined } {
  if (!context.issuer) throw invalidClient('client assertions are not accepted at this endpoint');
  return { issuer: context.issuer, endpoint: context.endpoint };
}

/** The payload of a verified JWS, which must be a JSON object. */
export function parseClaims(payload: Uint8Array): JWTPayload {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw invalidClient('client_assertion payload is not JSON');
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw invalidClient('client_assertion payload is not a JSON object');
  return claims as JWTPayload;
}

/** RFC 7523 §3 items 1-2: the client signs about itself. */
function checkIssuerAndSubject(claims: JWTPayload, client: Client): void {
  if (claims.iss !== client.id) throw invalidClient('client_assertion iss must be the client_id');
  if (claims.sub !== client.id) throw invalidClient('client_assertion sub must be the client_id');
}

/**
 * RFC 7523 §3 item 3: aud names this authorization server. Accepted: the issuer identifier (what
 * rfc7523bis makes the audience), the token endpoint (RFC 7523's example, RFC 9126 §2) and the URL
 * of the endpoint being called; compared as strings.
 */
function checkAudience(claims: JWTPayload, issuer: IssuerContext, endpoint: string | undefined): void {
  const accepted = new Set([issuer.issuer, `${issuer.issuer}/token`, ...(endpoint ? [endpoint] : [])]);
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!audiences.some((aud) => typeof aud === 'string' && accepted.has(aud))) {
    throw invalidClient(`client_assertion aud must be the issuer (${issuer.issuer})`);
  }
}

/** RFC 7523 §3 items 4-6: exp required and near, nbf and iat not in the future. */
function checkTimes(claims: JWTPayload, nowS: number): number {
  const { exp, nbf, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalidClient('client_assertion exp is required');
  if (exp <= nowS - CLOCK_SKEW_S) throw invalidClient('client_assertion has expired');
  if (exp > nowS + MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
    throw invalidClient(`client_assertion exp is too far ahead (at most ${MAX_ASSERTION_LIFETIME_S / 60} minutes from now)`);
  }
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowS + CLOCK_SKEW_S)) throw invalidClient('client_assertion is not valid yet (nbf)');
  if (iat !== undefined && (typeof iat !== 'number' || iat > nowS + CLOCK_SKEW_S)) throw invalidClient('client_assertion iat is in the future');
  return exp;
}

/** RFC 7523 §3 item 7: the jti is remembered until the assertion expires; a second use is refused. */
async function checkNotReplayed(claims: JWTPayload, client: Client, issuer: IssuerContext, exp: number): Promise<void> {
  const { jti } = claims;
  if (typeof jti !== 'string' || jti === '') throw invalidClient('client_assertion jti is required');
  // Hashed: the jti is the client's text, of any length; the client ID scopes it.
  const id = createHash('sha256').update(`${client.id}\u0000${jti}`).digest('base64url');
  if (!(await issuer.storage.markUsed(REPLAY_NAMESPACE, id, (exp + CLOCK_SKEW_S) * 1000))) {
    throw invalidClient('client_assertion was already used (its jti was seen before)');
  }
}

/** Every claim check, after the signature was verified; the jti is spent only by an otherwise valid assertion. */
export async function checkAssertionClaims(claims: JWTPayload, client: Client, context: { issuer: IssuerContext; endpoint: string | undefined }): Promise<void> {
  const { issuer, endpoint } = context;
  checkIssuerAndSubject(claims, client);
  checkAudience(claims, issuer, endpoint);
  const exp = checkTimes(claims, Math.floor(issuer.now() / 1000));
  await checkNotReplayed(claims, client, issuer, exp);
}
