/**
 * RequestAttributes: what a rule can look at, built once per request from the CheckInput, the peer
 * identity and the verified JWT. Field names follow Istio's attribute names.
 */
import type { PathNormalization } from './normalize-path.js';

export interface RequestAttributes {
  /** source.principal without "spiffe://", e.g. cluster.local/ns/default/sa/sleep. */
  peerPrincipal?: string;
  sourceNamespace?: string;
  /** source.serviceAccount as "ns/sa". */
  sourceServiceAccount?: string;
  trustDomain?: string;
  sourceIp?: string;
  remoteIp?: string;
  destinationIp?: string;
  destinationPort?: number;
  /** request.auth.principal = iss + "/" + sub. */
  requestPrincipal?: string;
  issuer?: string;
  subject?: string;
  claims?: Readonly<Record<string, unknown>>;
  audiences?: readonly string[];
  presenter?: string;
  /** request.auth.binding: how the token is sender-constrained (`mtls`, `dpop`; `none` for a bearer token), checked before. */
  binding?: readonly string[];
  /** Claims split on whitespace before matching (scope, permission, spaceDelimitedClaims). */
  spaceDelimitedClaims: ReadonlySet<string>;
  host: string;
  method: string;
  /** Normalized path without query or fragment. */
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  sni?: string;
  filterMetadata?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export const DEFAULT_SPACE_DELIMITED = new Set(['scope', 'permission']);

/** A claim (nested by path) as a list of strings; numbers and booleans never match string patterns. */
export function claimValues(attributes: RequestAttributes, path: readonly string[]): string[] | undefined {
  let value: unknown = attributes.claims;
  for (const part of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') {
    const last = path[path.length - 1]!;
    return path.length === 1 && attributes.spaceDelimitedClaims.has(last) ? value.split(/\s+/).filter(Boolean) : [value];
  }
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return undefined;
}

export type { PathNormalization };
