/**
 * The `filter` section of the config: where the ext_authz listeners bind, where policies come from,
 * and how tokens and peers are authenticated. (Owned by the filter; composed into the main schema in
 * src/config/schema.ts.) Every object is strict; keys are camelCase as in Dex.
 */
import { z } from 'zod';
import { duration } from '../config/duration.js';
import { parseBlock } from './policy/ip-match.js';
import { signInConfigSchema } from './signin/config.js';

/** `Ed25519` is RFC 9864's fully specified name for EdDSA with Ed25519 (oauth4webapi signs DPoP proofs with it). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** An Istio RequestAuthentication jwtRule, in Istio's own spelling (camelCase). */
export const jwtRuleSchema = z.strictObject({
  issuer: z.string().min(1),
  audiences: z.array(z.string().min(1)).optional(),
  jwksUri: z.string().optional(),
  jwks: z.string().optional(),
  fromHeaders: z.array(z.strictObject({ name: z.string().min(1), prefix: z.string().optional() })).optional(),
  fromParams: z.array(z.string().min(1)).optional(),
  fromCookies: z.array(z.string().min(1)).optional(),
  outputPayloadToHeader: z.string().optional(),
  outputClaimToHeaders: z
    .array(z.strictObject({ header: z.string().regex(/^[-_A-Za-z0-9]+$/, { message: 'not a strict header name' }), claim: z.string().min(1) }))
    .optional(),
  forwardOriginalToken: z.boolean().optional(),
  timeout: z.string().optional(),
  spaceDelimitedClaims: z.array(z.string().min(1)).optional(),
});

const workloadSchema = z.strictObject({
  namespace: z.string().min(1).default('default'),
  labels: z.record(z.string(), z.string()).default({}),
});

const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, { message: 'not a listen address (use host:port, e.g. 127.0.0.1:9191)' });

export const filterConfigSchema = z.strictObject({
  /** gRPC ext_authz listener (envoy.service.auth.v3.Authorization), host:port. */
  grpc: listenAddress.optional(),
  /** HTTP listener for Envoy HTTP ext_authz, nginx auth_request and Traefik ForwardAuth, host:port. */
  http: listenAddress.optional(),
  /** Istio YAML / native RBAC files or directories. */
  policies: z.array(z.string()).default([]),
  /** Istio's root namespace: policies there apply mesh-wide. */
  rootNamespace: z.string().min(1).default('istio-system'),
  /** The workload a request targets when ext_authz context_extensions do not say. */
  defaultWorkload: workloadSchema.prefault({}),
  /** Mesh-wide jwtRules in addition to RequestAuthentication resources (for setups without Istio YAML). */
  jwtRules: z.array(jwtRuleSchema).default([]),
  /** When the issuer shares the process: audiences accepted for its tokens (empty: no audience check). */
  issuerAudiences: z.array(z.string()).default([]),
  /** JWT exp/nbf tolerance (Envoy's default is 60s). */
  clockSkew: duration('60s'),
  /** JWS algorithms accepted; a key is only ever used with the algorithm of its own type. */
  algorithms: z.array(z.enum(ALGORITHMS)).default(['RS256', 'ES256', 'EdDSA']),
  /** Verified-token cache: entries never outlive the token's exp; bounded by count and by (estimated) bytes. */
  tokenCache: z
    .strictObject({
      maxEntries: z.number().int().nonnegative().default(10_000),
      maxBytes: z.number().int().nonnegative().default(64 * 1024 * 1024),
    })
    .prefault({}),
  /** Remote JWKS: background refresh, refetch on an unknown kid at most once per cooldown. */
  jwks: z
    .strictObject({
      refreshInterval: duration('5m'),
      unknownKidCooldown: duration('30s'),
      fetchTimeout: duration('5s'),
    })
    .prefault({}),
  /** HTTP modes: the addresses of the proxy itself (nginx, Traefik, Envoy); only their forwarding headers are believed. CIDRs or IPs. */
  trustedProxies: z
    .array(z.string().refine((entry) => parseBlock(entry) !== undefined, { message: 'not an IP address or CIDR block (e.g. 10.0.0.0/8)' }))
    .default(['127.0.0.1/32', '::1/128']),
  /**
   * Istio's numTrustedProxies (Envoy xff_num_trusted_hops): how many proxies in front of the ingress
   * append to X-Forwarded-For. remote.ip is the entry this many places left of the right-most one.
   */
  numTrustedProxies: z.number().int().min(0).max(64).default(0),
  /**
   * x-forwarded-client-cert, HTTP modes: believed only from a trusted proxy that is configured to
   * overwrite it (forwardClientCertDetails, Istio's gatewayTopology name) and whose By= is in trustedBy.
   */
  xfcc: z
    .strictObject({
      trustedBy: z.array(z.string().min(1)).default([]),
      forwardClientCertDetails: z.enum(['SANITIZE', 'SANITIZE_SET', 'APPEND_FORWARD']).default('SANITIZE'),
    })
    .prefault({})
    .superRefine((xfcc, ctx) => {
      if (xfcc.trustedBy.length > 0 && xfcc.forwardClientCertDetails === 'SANITIZE') {
        ctx.addIssue({ code: 'custom', path: ['forwardClientCertDetails'], message: 'trustedBy is set, so say how the proxy writes the header: SANITIZE_SET (it replaces any client value) or APPEND_FORWARD (it appends its own element)' });
      }
      if (xfcc.trustedBy.length === 0 && xfcc.forwardClientCertDetails !== 'SANITIZE') {
        ctx.addIssue({ code: 'custom', path: ['trustedBy'], message: `forwardClientCertDetails ${xfcc.forwardClientCertDetails} needs the By= URIs of the proxies that set the header` });
      }
    }),
  /** Prefix of the identity headers sent upstream on allow; incoming headers with it are removed. */
  identityHeaderPrefix: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and "-"' }).default('x-idgate-'),
  /** Envoy HTTP ext_authz: the http_service.path_prefix configured in Envoy. */
  envoyPathPrefix: z.string().startsWith('/').default('/envoy'),
  /** How request paths are normalized before matching (Istio's meshConfig.pathNormalization). */
  pathNormalization: z.enum(['BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES', 'NONE']).default('BASE'),
  /**
   * Envoy's path_with_escaped_slashes_action for %2F / %5C. Default: UNESCAPE_AND_FORWARD with
   * DECODE_AND_MERGE_SLASHES (as Istio sets it), else KEEP_UNCHANGED.
   */
  pathWithEscapedSlashesAction: z.enum(['KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD']).optional(),
  /**
   * Deny a request that carried no token with 401 and a Bearer challenge (body "Jwt is missing") instead
   * of Istio's 403, so clients know to authenticate. Off by default: Istio answers 403.
   */
  challengeAnonymous: z.boolean().default(false),
  /** One JSON line per decision: to stdout (default), a file, or off. */
  audit: z.strictObject({ enabled: z.boolean().default(true), file: z.string().optional() }).prefault({}),
  /** Watch policy files and reload on change (atomic replaces and ConfigMap swaps included). */
  watch: z.boolean().default(true),
  /** With watch: rescan the policy files this often as a backstop for missed events (0s: never). */
  watchInterval: duration('10s'),
  /**
   * Decision counts per edge (caller -> workload), kept in memory for the console's traffic graph and
   * flushed to shared storage (sqlite3, postgres) every `interval` for consoles in other processes; 0s: never flushed.
   */
  trafficReports: z.strictObject({ interval: duration('10s'), retention: duration('1h', { positive: true }) }).prefault({}),
  /** JWT signature path: node:crypto with strict alg-to-key binding (fast) or jose. */
  verifier: z.enum(['node-crypto', 'jose']).default('node-crypto'),
  /** Browser sign-in at the ingress (what oauth2-proxy does): see signin/config.ts and docs/filter.md#browser-sign-in. */
  signIn: signInConfigSchema.optional(),
  /**
   * DPoP proofs for DPoP-bound tokens (cnf.jkt, RFC 9449): the proof algorithms accepted (asymmetric
   * only), how far a proof's iat may be from the filter's clock either way, and how many proof ids this
   * process remembers against replay (per process; see docs/sender-constrained.md).
   */
  dpop: z
    .strictObject({
      algorithms: z.array(z.enum(ALGORITHMS)).min(1).default(['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519']),
      iatWindow: duration('60s', { positive: true }),
      replayCache: z.strictObject({ maxEntries: z.number().int().positive().default(100_000) }).prefault({}),
    })
    .prefault({}),
});

export type FilterConfig = z.output<typeof filterConfigSchema>;
export type FilterConfigInput = z.input<typeof filterConfigSchema>;
export type JwtRuleSpec = z.output<typeof jwtRuleSchema>;
export type JwsAlgorithm = (typeof ALGORITHMS)[number];
export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = ALGORITHMS;

/** Parses a filter section (tests and tools that build a config without the whole file). */
export function parseFilterConfig(input: FilterConfigInput): FilterConfig {
  return filterConfigSchema.parse(input);
}
