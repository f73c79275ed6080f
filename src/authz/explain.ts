/**
 * `idgate authz explain`: decides one request offline through serve's own pipeline (DecisionEngine,
 * path normalization, PeerAuthentication, RequestAuthentication, AuthorizationPolicy) and says why: the
 * decision, the normalized path, the token outcome, the policy and rule that decided, and for every
 * other applicable rule the first field that did not match.
 */
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { silentLogger } from '../telemetry/logger.js';
import type { CheckInput, CheckResult, TransportKind } from './check-input.js';
import type { FilterConfig } from './config.js';
import { DecisionEngine, type PreparedRequest, type RequestAuthenticator } from './decide.js';
import { AssumedClaims, unsignedTokenOf } from './jwt/assumed-claims.js';
import { Authenticator, type Authentication } from './jwt/authenticate.js';
import type { JwtErrorCode } from './jwt/jwt-error.js';
import { locateToken, type TokenLocation } from './jwt/locate-token.js';
import { explainRuleBody } from './policy/compile-rule.js';
import type { PolicySet, ScopedJwtRule } from './policy/policy-set.js';
import { clientAddresses } from './transport/client-address.js';

/** The proxy that hands the request over: nginx and Traefik send the raw request target (see normalize-path.ts). */
export type ExplainMode = Exclude<TransportKind, 'explain'>;
export const EXPLAIN_MODES: readonly ExplainMode[] = ['grpc', 'envoy-http', 'nginx', 'traefik'];

export interface ExplainRequest {
  method?: string;
  /** The request target as the proxy hands it over (with its query), before normalization. */
  path?: string;
  host?: string;
  scheme?: string;
  headers?: Record<string, string>;
  /** Peer SPIFFE URI, e.g. spiffe://cluster.local/ns/default/sa/sleep */
  peer?: string;
  sourceIp?: string;
  /** remote.ip as given; by default derived from X-Forwarded-For with numTrustedProxies, as serve does. */
  remoteIp?: string;
  destinationIp?: string;
  port?: number;
  sni?: string;
  namespace?: string;
  /** "app=web,version=v1" */
  labels?: string;
  /** A JWT, verified as serve verifies it; carried as `Authorization: Bearer` (give it with `headers` to carry it elsewhere). */
  token?: string;
  /** Claims of a token to assume without a signature; every check that needs no signature still applies. */
  claims?: Record<string, unknown>;
  /** Decide as this transport does (default: like Envoy, whose path is already normalized). */
  mode?: ExplainMode;
}

export interface ExplainOptions {
  config: FilterConfig;
  /** JWKS fetch problems go here (default: nowhere; the token outcome names the failure). */
  logger?: Logger;
  now?: () => number;
}

export interface RuleExplanation {
  rule: number;
  matched: boolean;
  why?: string;
}

export interface PolicyExplanation {
  policy: string;
  action: string;
  dryRun: boolean;
  rules: RuleExplanation[];
}

/** What RequestAuthentication made of the request's token. */
export type TokenExplanation =
  /** Decided before authentication: a refused path, STRICT mTLS without a peer, a CORS preflight. */
  | { outcome: 'not-checked' }
  /** No token where the workload's jwtRules look (or no jwtRules: then a token is not looked at). */
  | { outcome: 'none'; jwtRules: number }
  | { outcome: 'verified' | 'assumed'; issuer: string; jwtRule: string; location: string }
  | { outcome: 'failed'; code: JwtErrorCode; message: string; location: string };

export interface Explanation {
  result: CheckResult;
  transport: TransportKind;
  /** The request target as given, and the path the decision was made on (absent when it was refused). */
  path: string;
  normalizedPath?: string;
  workload: { namespace: string; labels: Record<string, string> };
  mtlsMode: string;
  token: TokenExplanation;
  /** True with --claims: the token's signature was not verified. */
  claimsAssumed: boolean;
  /** False when the decision came before any rule was looked at (refused path, STRICT without a peer, a bad token). */
  evaluated: boolean;
  peerPrincipal?: string;
  requestPrincipal?: string;
  policies: PolicyExplanation[];
}

/** Keeps what authentication said, and the jwtRules it was asked with, for the explanation. */
class ObservedAuthentication implements RequestAuthenticator {
  seen?: { auth: Authentication; rules: readonly ScopedJwtRule[] };
  constructor(private readonly inner: RequestAuthenticator) {}
  async authenticate(request: Parameters<RequestAuthenticator['authenticate']>[0], rules: readonly ScopedJwtRule[]): Promise<Authentication> {
    const auth = await this.inner.authenticate(request, rules);
    this.seen = { auth, rules };
    return auth;
  }
}

/** Serve's Authenticator; the workload's key sources are started only when the request carries a token. */
function verifyingAuthenticator(authenticator: Authenticator): RequestAuthenticator {
  return {
    async authenticate(request, rules) {
      if (rules.length > 0 && locateToken(request, rules.map((s) => s.rule))) await authenticator.prepare(rules);
      return authenticator.authenticate(request, rules);
    },
  };
}

export function explainInput(request: ExplainRequest, config: Pick<FilterConfig, 'numTrustedProxies'>): CheckInput {
  if (request.token !== undefined && request.claims !== undefined) throw new Error('give either a token or claims, not both');
  const method = request.method ?? 'GET';
  const path = request.path ?? '/';
  const host = request.host ?? 'localhost';
  const headers: Record<string, string> = { ':method': method, ':path': path, ':authority': host };
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  const carried = request.token ?? (request.claims ? unsignedTokenOf(request.claims as JWTPayload) : undefined);
  if (carried !== undefined) {
    if (request.token !== undefined && headers.authorization !== undefined) throw new Error('the token is sent as Authorization: Bearer, and an authorization header is given too: give the token once');
    headers.authorization ??= `Bearer ${carried}`;
  }
  const ext: Record<string, string> = {};
  if (request.namespace) ext.namespace = request.namespace;
  if (request.labels !== undefined) ext.labels = request.labels;
  const addresses = clientAddresses(headers['x-forwarded-for'], request.sourceIp, config.numTrustedProxies);
  const remoteIp = request.remoteIp ?? addresses.remoteIp;
  return {
    transport: request.mode ?? 'explain', requestId: 'explain', method, path, host, scheme: request.scheme ?? 'http', headers,
    ...(request.peer ? { peerPrincipal: request.peer } : {}),
    ...(addresses.sourceIp ? { sourceIp: addresses.sourceIp } : {}),
    ...(remoteIp ? { remoteIp } : {}),
    ...(request.destinationIp ? { destinationIp: request.destinationIp } : {}),
    ...(request.port !== undefined ? { destinationPort: request.port } : {}),
    ...(request.sni ? { sni: request.sni } : {}),
    ...(Object.keys(ext).length > 0 ? { contextExtensions: ext } : {}),
  };
}

export async function explainRequest(policies: PolicySet, request: ExplainRequest, options: ExplainOptions): Promise<Explanation> {
  const { config } = options;
  const now = options.now ?? Date.now;
  const input = explainInput(request, config);
  // --claims never reaches a key source, so it never touches the network.
  const authenticator = request.claims ? undefined : new Authenticator({ config, logger: options.logger ?? silentLogger(), now });
  const observed = new ObservedAuthentication(authenticator ? verifyingAuthenticator(authenticator) : new AssumedClaims(request.claims as JWTPayload, now, config.clockSkew));
  try {
    const engine = new DecisionEngine(config, policies, observed);
    const prepared: PreparedRequest = await engine.prepare(input);
    const result = engine.decide(input, prepared);
    return explanationOf(input, prepared, result, observed.seen, request.claims !== undefined);
  } finally {
    authenticator?.close();
  }
}

function explanationOf(input: CheckInput, prepared: PreparedRequest, result: CheckResult, seen: ObservedAuthentication['seen'], claimsAssumed: boolean): Explanation {
  const attributes = prepared.attributes;
  return {
    result,
    transport: input.transport,
    path: input.path,
    ...(prepared.path !== undefined ? { normalizedPath: prepared.path } : {}),
    workload: { namespace: prepared.target.namespace, labels: { ...prepared.target.labels } },
    mtlsMode: prepared.view.mtlsMode(input.destinationPort),
    token: tokenExplanation(seen, claimsAssumed),
    claimsAssumed,
    evaluated: attributes !== undefined,
    ...(prepared.peer ? { peerPrincipal: prepared.peer.principal } : {}),
    ...(attributes?.requestPrincipal ? { requestPrincipal: attributes.requestPrincipal } : {}),
    policies: prepared.view.policies.map((policy) => ({
      policy: policy.id,
      action: policy.action,
      dryRun: policy.dryRun,
      rules: attributes
        ? policy.rules.map((rule) => {
            const why = explainRuleBody(rule.body, attributes);
            return { rule: rule.index, matched: why === undefined, ...(why ? { why } : {}) };
          })
        : [],
    })),
  };
}

function tokenExplanation(seen: ObservedAuthentication['seen'], claimsAssumed: boolean): TokenExplanation {
  if (!seen) return { outcome: 'not-checked' };
  const { auth, rules } = seen;
  if (auth.kind === 'anonymous') return { outcome: 'none', jwtRules: rules.length };
  const location = describeLocation(auth.location);
  if (auth.kind === 'failed') return { outcome: 'failed', code: auth.error.code, message: auth.error.message, location };
  const jwtRule = rules.find((s) => s.rule === auth.rule)?.source ?? auth.rule.issuer;
  return { outcome: claimsAssumed ? 'assumed' : 'verified', issuer: auth.rule.issuer, jwtRule, location };
}

function describeLocation(location: TokenLocation): string {
  switch (location.kind) {
    case 'header':
      return `header ${location.name}${location.prefix ? ` (prefix "${location.prefix.trim()}")` : ''}`;
    case 'param':
      return `query parameter ${location.name}`;
    case 'cookie':
      return `cookie ${location.name}`;
  }
}

function formatToken(e: Explanation): string {
  const t = e.token;
  switch (t.outcome) {
    case 'not-checked':
      return 'not checked (decided before authentication)';
    case 'none':
      return t.jwtRules === 0 ? 'none (no jwtRules apply to this workload: a token is not looked at)' : `none (no token where the workload's ${t.jwtRules} jwtRule(s) look)`;
    case 'failed':
      return `failed ${t.code}: ${t.message} (${t.location})`;
    case 'verified':
      return `verified: issuer ${t.issuer}, jwtRule ${t.jwtRule}, from ${t.location}`;
    case 'assumed':
      return `claims assumed, signature NOT verified: issuer ${t.issuer}, jwtRule ${t.jwtRule}, from ${t.location}`;
  }
}

export function formatExplanation(e: Explanation): string {
  const r = e.result;
  const lines = [`decision: ${r.decision.toUpperCase()} (${r.status}) reason=${r.reason}${r.policy ? ` policy=${r.policy} rule=${r.rule}` : ''}`];
  if (r.decision === 'deny') lines.push(`body: ${r.body}`);
  const raw = e.transport === 'nginx' || e.transport === 'traefik' ? ' (raw request target)' : '';
  lines.push(
    `path: ${e.path} -> ${e.normalizedPath ?? '(refused)'}  transport=${e.transport}${raw}`,
    `workload: namespace=${e.workload.namespace} labels={${Object.entries(e.workload.labels).map(([k, v]) => `${k}=${v}`).join(',')}}  mTLS=${e.mtlsMode}`,
    `token: ${formatToken(e)}`,
    `peer principal: ${e.peerPrincipal ?? '(none)'}  request principal: ${e.requestPrincipal ?? '(none)'}`,
  );
  if (e.policies.length === 0) lines.push('no policies apply to this workload');
  for (const p of e.policies) {
    const decided = r.policy === p.policy;
    lines.push(`${p.action}${p.dryRun ? ' (dry-run)' : ''} ${p.policy}${decided ? '  <- decided' : ''}`);
    if (!e.evaluated) lines.push('  (not evaluated: decided before authorization)');
    else if (p.rules.length === 0) lines.push('  (no rules: never matches)');
    for (const rule of p.rules) lines.push(`  rule[${rule.rule}]: ${rule.matched ? 'MATCH' : `no match: ${rule.why}`}`);
  }
  if (e.claimsAssumed) lines.push('note: --claims: the token signature was NOT verified; issuer, audiences and exp/nbf were checked as serve checks them');
  return `${lines.join('\n')}\n`;
}
