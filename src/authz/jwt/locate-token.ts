/**
 * Finds the request's JWT where the jwtRules say to look (fromHeaders with prefix, fromParams,
 * fromCookies), or, for a rule that says nothing, in `Authorization: Bearer` and the `access_token`
 * query parameter, as Envoy's jwt_authn does. Wherever a rule reads `Authorization: Bearer`, the
 * `DPoP` scheme (RFC 9449 §7.1) is read too: the location a token was found at tells the binding
 * checks (binding/token-binding.ts) which scheme it came under.
 */
import type { JwtRuleSpec } from '../config.js';

export type TokenLocation = { kind: 'header'; name: string; prefix: string } | { kind: 'param'; name: string } | { kind: 'cookie'; name: string };

export interface LocatedToken {
  token: string;
  location: TokenLocation;
}

/** The prefix of a token under the DPoP authorization scheme (the location's `prefix`). */
const DPOP_PREFIX = 'DPoP ';

const DEFAULT_LOCATIONS: TokenLocation[] = [
  { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
  { kind: 'header', name: 'authorization', prefix: DPOP_PREFIX },
  { kind: 'param', name: 'access_token' },
];

/** Whether a token found at `location` came under the DPoP authorization scheme. */
export function isDpopScheme(location: TokenLocation): boolean {
  // The length first: on the hot path this is asked of every bearer token, and lower-casing allocates.
  return location.kind === 'header' && location.prefix.length === DPOP_PREFIX.length && location.name === 'authorization' && location.prefix.toLowerCase() === 'dpop ';
}

function isBearerAuthorization(location: TokenLocation): boolean {
  return location.kind === 'header' && location.name === 'authorization' && location.prefix.toLowerCase() === 'bearer ';
}

const LOCATIONS = new WeakMap<JwtRuleSpec, TokenLocation[]>();

export function locationsOf(rule: JwtRuleSpec): TokenLocation[] {
  const cached = LOCATIONS.get(rule);
  if (cached) return cached;
  const out: TokenLocation[] = [];
  for (const h of rule.fromHeaders ?? []) {
    const location: TokenLocation = { kind: 'header', name: h.name.toLowerCase(), prefix: h.prefix ?? '' };
    out.push(location);
    if (isBearerAuthorization(location)) out.push({ kind: 'header', name: 'authorization', prefix: DPOP_PREFIX });
  }
  for (const name of rule.fromParams ?? []) out.push({ kind: 'param', name });
  for (const name of rule.fromCookies ?? []) out.push({ kind: 'cookie', name });
  const locations = out.length > 0 ? out : DEFAULT_LOCATIONS;
  LOCATIONS.set(rule, locations);
  return locations;
}

export function sameLocation(a: TokenLocation, b: TokenLocation): boolean {
  return a.kind === b.kind && a.name === b.name && (a.kind !== 'header' || b.kind !== 'header' || a.prefix === b.prefix);
}

interface RequestParts {
  headers: Readonly<Record<string, string | undefined>>;
  /** The request target, with its query string. */
  path: string;
}

export function extractToken(request: RequestParts, location: TokenLocation): string | undefined {
  switch (location.kind) {
    case 'header': {
      const value = request.headers[location.name];
      if (!value) return undefined;
      const { prefix } = location;
      // The exact spelling first: lower-casing allocates, and nearly every client writes "Bearer ".
      if (prefix && !value.startsWith(prefix) && value.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return undefined;
      const token = value.slice(prefix.length).trim();
      return token || undefined;
    }
    case 'param': {
      const q = request.path.indexOf('?');
      if (q === -1) return undefined;
      const value = new URLSearchParams(request.path.slice(q + 1)).get(location.name);
      return value || undefined;
    }
    case 'cookie': {
      const header = request.headers.cookie;
      if (!header) return undefined;
      for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq !== -1 && part.slice(0, eq).trim() === location.name) return part.slice(eq + 1).trim() || undefined;
      }
      return undefined;
    }
  }
}

/** The first token found at any rule's locations, in rule order. */
export function locateToken(request: RequestParts, rules: readonly JwtRuleSpec[]): LocatedToken | undefined {
  for (const rule of rules) {
    for (const location of locationsOf(rule)) {
      const token = extractToken(request, location);
      if (token) return { token, location };
    }
  }
  return undefined;
}
