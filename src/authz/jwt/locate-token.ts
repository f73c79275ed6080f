/**
 * Finds the request's JWT where the jwtRules say to look (fromHeaders with prefix, fromParams,
 * fromCookies), or, for a rule that says nothing, in `Authorization: Bearer` and the `access_token`
 * query parameter, as Envoy's jwt_authn does.
 */
import type { JwtRuleSpec } from '../config.js';

export type TokenLocation = { kind: 'header'; name: string; prefix: string } | { kind: 'param'; name: string } | { kind: 'cookie'; name: string };

export interface LocatedToken {
  token: string;
  location: TokenLocation;
}

const DEFAULT_LOCATIONS: TokenLocation[] = [
  { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
  { kind: 'param', name: 'access_token' },
];

const LOCATIONS = new WeakMap<JwtRuleSpec, TokenLocation[]>();

export function locationsOf(rule: JwtRuleSpec): TokenLocation[] {
  const cached = LOCATIONS.get(rule);
  if (cached) return cached;
  const out: TokenLocation[] = [];
  for (const h of rule.fromHeaders ?? []) out.push({ kind: 'header', name: h.name.toLowerCase(), prefix: h.prefix ?? '' });
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
      if (prefix && value.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return undefined;
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
