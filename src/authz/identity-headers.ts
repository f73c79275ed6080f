/**
 * What goes upstream on allow: the identity headers (request and peer principal, subject, issuer,
 * groups), the jwtRule's outputClaimToHeaders and outputPayloadToHeader, and what to strip: the token
 * (unless forwardOriginalToken) and any incoming header that pretends to be one of ours.
 */
import type { CheckInput, HeaderToSet } from './check-input.js';
import type { Authentication } from './jwt/authenticate.js';
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

function safeHeaderValue(value: string): string {
  // Header values must not carry control characters (a claim is attacker-influenced text).
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      return Array.from(value, (c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('');
    }
  }
  return value;
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
      else if (location.kind === 'param') queryParametersToRemove.push(location.name);
    }
  }
  for (const name in input.headers) {
    if (name.startsWith(prefix) && !headers.some((h) => h.name === name)) headersToRemove.push(name);
  }
  return { headers, headersToRemove, queryParametersToRemove };
}

function addHeader(headers: HeaderToSet[], name: string, value: string | undefined): void {
  if (value !== undefined && value !== '') headers.push({ name, value: safeHeaderValue(value) });
}
