/**
 * What goes upstream on allow: the identity headers (request and peer principal, subject, issuer,
 * groups), the jwtRule's outputClaimToHeaders and outputPayloadToHeader, and what to strip: the token
 * and its DPoP proof (unless forwardOriginalToken) and any incoming header that pretends to be one of ours.
 */
import type { CheckInput, HeaderToSet } from './check-input.js';
import type { Authentication } from './jwt/authenticate.js';
import { isDpopScheme } from './jwt/locate-token.js';
import type { PeerIdentity } from './peer/spiffe.js';

export interface UpstreamMutation {
  headers: HeaderToSet[];
  headersToRemove: string[];
  queryParametersToRemove: string[];
}

/** A claim by dotted path, as a header value: only strings, numbers and booleans (as Istio). */
function claimHeaderValue(payload: Record<string, unknown>, path: string): string | undefined {
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Visible ASCII and space: what every proxy and HTTP library carries unchanged. */
const PLAIN = /^[\x20-\x7e]*$/;
/** RFC 8187 attr-char: what an ext-value keeps as is; every other byte is percent-encoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;
const EXT_VALUE_PREFIX = "UTF-8''";

/**
 * A claim is the client's (or an upstream IdP's) text: it may hold any Unicode and control
 * characters, which Node refuses in an HTTP header (ERR_INVALID_CHAR) and proxies treat differently.
 * A value of visible ASCII is sent as is; any other value is sent as an RFC 8187 ext-value,
 * `UTF-8''` + percent-encoded UTF-8 ("Łukasz" -> "UTF-8''%C5%81ukasz"), so it is lossless and always a
 * valid header. A plain value that itself starts with `UTF-8''` is encoded too, so the prefix is unambiguous.
 */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value) && !value.startsWith(EXT_VALUE_PREFIX)) return value;
  let out = EXT_VALUE_PREFIX;
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const QUOTABLE = /^[\x21\x23-\x5b\x5d-\x7e]*$/;

/** Text for a header quoted-string (a WWW-Authenticate realm): bytes outside visible ASCII, `"` and `\\` percent-encoded. */
export function percentEncodeForQuotedString(text: string): string {
  if (QUOTABLE.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function upstreamMutation(input: CheckInput, prefix: string, peer: PeerIdentity | undefined, auth: Authentication): UpstreamMutation {
  const headers: HeaderToSet[] = [];
  const headersToRemove: string[] = [];
  const queryParametersToRemove: string[] = [];
  if (peer) {
    addHeader(headers, `${prefix}peer-principal`, peer.principal);
    addHeader(headers, `${prefix}peer-namespace`, peer.namespace);
    addHeader(headers, `${prefix}peer-service-account`, peer.serviceAccount);
  }
  if (auth.kind === 'authenticated') {
    const { payload, rule, location, token } = auth;
    const iss = typeof payload.iss === 'string' ? payload.iss : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    if (iss !== undefined && sub !== undefined) addHeader(headers, `${prefix}request-principal`, `${iss}/${sub}`);
    addHeader(headers, `${prefix}issuer`, iss);
    addHeader(headers, `${prefix}subject`, sub);
    const groups = (payload as Record<string, unknown>).groups;
    if (Array.isArray(groups)) addHeader(headers, `${prefix}groups`, groups.filter((g): g is string => typeof g === 'string').join(','));
    if (rule.outputClaimToHeaders) {
      for (const { header, claim } of rule.outputClaimToHeaders) addHeader(headers, header.toLowerCase(), claimHeaderValue(payload as Record<string, unknown>, claim));
    }
    if (rule.outputPayloadToHeader) addHeader(headers, rule.outputPayloadToHeader.toLowerCase(), token.split('.')[1]);
    if (!rule.forwardOriginalToken) {
      if (location.kind === 'header') headersToRemove.push(location.name);
      // The proof is bound to this token and request: it goes where the token goes.
      if (isDpopScheme(location)) headersToRemove.push('dpop');
      else if (location.kind === 'param') queryParametersToRemove.push(location.name);
    }
  }
  for (const name in input.headers) {
    if (name.startsWith(prefix) && !headers.some((h) => h.name === name)) headersToRemove.push(name);
  }
  return { headers, headersToRemove, queryParametersToRemove };
}

function addHeader(headers: HeaderToSet[], name: string, value: string | undefined): void {
  if (value !== undefined && value !== '') headers.push({ name, value: encodeHeaderValue(value) });
}
