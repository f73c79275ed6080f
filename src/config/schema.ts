/**
 * The config file's shape, validated once with zod. Dex's config.yaml keys are accepted unchanged
 * where Dex has them; keys of our own (filter, signer.config.algorithm, oauth2.pkce, login) are added
 * where Dex has none. Every object is strict: an unknown key is an error, with a suggestion.
 */
import { z } from 'zod';
import { consoleConfigSchema } from '../admin/console/config.js';
import { CLIENT_CLAIM_KEYS, CONNECTOR_CLAIM_KEYS } from '../claims/config.js';
import { filterConfigSchema } from '../authz/config.js';
import { parseBlock } from '../authz/policy/ip-match.js';
import { clientAuthIssues } from './client-auth.js';
import { clientCertificateIssues } from './client-certificates.js';
import { CLIENT_MFA_KEYS, CONNECTOR_MFA_KEYS, mfaConfigIssues, mfaConfigSchema } from '../sessions/mfa/config.js';
import { duration, optionalDuration } from './duration.js';

const absoluteURL = z.string().refine((value) => URL.canParse(value), { message: 'not an absolute URL' });
const LISTEN_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d{1,5})$/;
const listenAddress = z
  .string()
  .regex(LISTEN_ADDRESS, { message: 'not a listen address (use host:port, e.g. 127.0.0.1:5556)' })
  // Only an address of the right shape has a port to check; the regex reports the others.
  .refine((value) => Number(LISTEN_ADDRESS.exec(value)?.[2] ?? 0) <= 65535, { message: 'port out of range (0-65535)' });

/** Dex's web.tlsMinVersion / tlsMaxVersion values, as Node's tls names them. */
export const TLS_VERSIONS = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' } as const;
const tlsVersion = z.enum(['1.2', '1.3']);

/** Dex's web.headers: a fixed set of response headers (cmd/dex/config.go Headers), each optional. */
const webHeadersSchema = z.strictObject({
  'Content-Security-Policy': z.string().optional(),
  'X-Frame-Options': z.string().optional(),
  'X-Content-Type-Options': z.string().optional(),
  'X-XSS-Protection': z.string().optional(),
  'Strict-Transport-Security': z.string().optional(),
});

/** Our own: how often expired records are deleted (default 5m, Dex's fixed interval); the first run is shortly after start. */
const gcInterval = optionalDuration({ positive: true });

/**
 * Our own: the keys that seal secrets at rest (src/storage/sealing.ts). The first key seals; every key
 * listed unseals, so a key is rotated by putting a new one first and, once `idgate keys
 * rotate-storage-key` has re-sealed everything, removing the old one.
 */
const sealing = z
  .strictObject({
    keys: z
      .array(
        z
          .strictObject({
            id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, ".", "_" or "-"' }),
            keyFile: z.string().min(1).optional(),
            keyEnv: z.string().min(1).optional(),
          })
          .refine((key) => (key.keyFile === undefined) !== (key.keyEnv === undefined), { message: 'set exactly one of keyFile and keyEnv' }),
      )
      .min(1, { message: 'must list at least one key' })
      .refine((keys) => new Set(keys.map((key) => key.id)).size === keys.length, { message: 'key ids must be unique' }),
  })
  .optional();

const storageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('memory'), config: z.strictObject({}).optional(), gcInterval, sealing }),
  z.strictObject({
    type: z.literal('sqlite3'),
    gcInterval,
    sealing,
    config: z.strictObject({ file: z.string().min(1, { message: 'must name a file' }) }),
  }),
  z.strictObject({
    type: z.literal('postgres'),
    gcInterval,
    sealing,
    config: z.strictObject({
      /** A libpq connection string; the separate keys below override its parts. */
      connectionString: z.string().optional(),
      host: z.string().optional(),
      port: z.number().int().min(1).max(65535).optional(),
      database: z.string().optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      ssl: z
        .strictObject({
          mode: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).default('disable'),
          caFile: z.string().optional(),
          certFile: z.string().optional(),
          keyFile: z.string().optional(),
          serverName: z.string().optional(),
        })
        .optional(),
      /** Seconds, as in Dex. */
      connectionTimeout: z.number().int().positive().optional(),
      maxOpenConns: z.number().int().positive().optional(),
      maxIdleConns: z.number().int().nonnegative().optional(),
      /** Seconds, as in Dex. */
      connMaxLifetime: z.number().int().positive().optional(),
      /** Our own: the schema to keep idgate's tables in. */
      schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: 'not a schema name (lowercase letters, digits, _)' }).max(63, { message: 'at most 63 characters (PostgreSQL truncates longer names)' }).optional(),
    }),
  }),
]);

/** Refuses a Dex frontend key whose Go templates idgate cannot render (the pages are built in). */
const dexTemplatesOnly = (key: string) =>
  z
    .unknown()
    .refine((value) => value === undefined, {
      message: `is not supported: idgate's login pages are built in and cannot use Dex's Go templates (${key}); theme them with theme, logoURL and extraCSS (docs/login.md#theming)`,
    })
    .optional();

const frontendSchema = z.strictObject({
  dir: dexTemplatesOnly('frontend.dir'),
  logoURL: z.string().optional(),
  issuer: z.string().optional(),
  theme: z.enum(['light', 'dark', 'auto']).default('auto'),
  /** Extra CSS appended to the login pages' stylesheet. */
  extraCSS: z.string().optional(),
  extra: dexTemplatesOnly('frontend.extra, the template variables'),
});

const webSchema = z.strictObject({
  http: listenAddress.optional(),
  https: listenAddress.optional(),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  tlsMinVersion: tlsVersion.optional(),
  tlsMaxVersion: tlsVersion.optional(),
  allowedOrigins: z.array(z.string()).default([]),
  allowedHeaders: z.array(z.string()).default([]),
  headers: webHeadersSchema.optional(),
  clientRemoteIP: z
    .strictObject({
      header: z.string().optional(),
      trustedProxies: z
        .array(z.string().refine((entry) => parseBlock(entry) !== undefined, { message: 'not an IP address or CIDR block (e.g. 10.0.0.0/8)' }))
        .default([]),
    })
    .optional(),
  /**
   * Our own (grpc.tlsClientCA's name): a PEM bundle of the CAs that issue clients' certificates (RFC
   * 8705 tls_client_auth). The HTTPS listener then asks for a client certificate without requiring one.
   */
  tlsClientCA: z.string().min(1).optional(),
  /**
   * Our own: the client certificate a TLS-terminating proxy forwards, believed only from
   * clientRemoteIP.trustedProxies: Envoy's x-forwarded-client-cert (the filter's xfcc rules) or
   * the header nginx sets to $ssl_client_escaped_cert (docs/sender-constrained.md).
   */
  clientCertificate: z
    .strictObject({
      xfcc: filterConfigSchema.shape.xfcc,
      header: z.string().regex(/^[A-Za-z0-9-]+$/, { message: 'not an HTTP header name' }).optional(),
    })
    .optional(),
  /** Our own (RFC 8705 §5 mtls_endpoint_aliases): the issuer URL as clients reach the mTLS listener, when that is another host. */
  mtlsURL: absoluteURL.optional(),
  frontend: frontendSchema.optional(),
});

/**
 * The grant types idgate implements, by their RFC names (Dex's oauth2.grantTypes values). A client or
 * the operator may list only these; discovery advertises the enabled ones.
 */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:device_code',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'password',
] as const;

/**
 * Dex's oauth2.responseTypes values: the code flow, the implicit flow (`id_token`, `id_token token`) and
 * the hybrid flows. `token` enables the access token part of those; on its own (OAuth 2.0's implicit
 * grant) it is refused at /auth, as in Dex. A request may combine the parts of the listed values.
 */
export const RESPONSE_TYPES = ['code', 'token', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'] as const;

/** Token endpoint client authentication methods (RFC 7591 token_endpoint_auth_method). */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none',
] as const;

const httpsURL = absoluteURL.refine((value) => !URL.canParse(value) || new URL(value).protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(new URL(value).hostname), {
  message: 'must be an https URL (http only for localhost)',
});

/** Methods with which a confidential client proves itself without a shared secret. */
const SECRETLESS_AUTH_METHODS: readonly string[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

/** RFC 7591 client metadata idgate honours, camelCased with Dex's spelling of URI/URL/ID. */
const clientMetadataShape = {
  grantTypes: z.array(z.enum(GRANT_TYPES)).min(1, { message: 'must list at least one grant type' }).optional(),
  tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).optional(),
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1, { message: 'must hold at least one key' }) }).optional(),
  jwksURI: httpsURL.optional(),
  scopes: z.array(z.string().min(1)).optional(),
  resources: z.array(absoluteURL).optional(),
  requirePushedAuthorizationRequests: z.boolean().optional(),
  /** Dex's mfaChain and OpenID registration's default_acr_values (sessions/mfa/config.ts). */
  ...CLIENT_MFA_KEYS,
  /** RFC 8705 §2.1.2 tls_client_auth_*: the one name the client's certificate must carry (config/client-auth.ts). */
  tlsClientAuthSubjectDN: z.string().min(1).optional(),
  tlsClientAuthSANDNS: z.string().min(1).optional(),
  tlsClientAuthSANURI: z.string().min(1).optional(),
  tlsClientAuthSANIP: z.string().min(1).optional(),
  tlsClientAuthSANEmail: z.string().min(1).optional(),
  /** RFC 8705 §3.4: the client's access tokens are bound to its certificate (cnf x5t#S256). */
  tlsClientCertificateBoundAccessTokens: z.boolean().optional(),
  /** RFC 9449 §5.2: the client's access tokens must be DPoP-bound; a token request without a proof is refused. */
  dpopBoundAccessTokens: z.boolean().optional(),
  /** Dex's oauth2.skipApprovalScreen, for this client alone (absent: the global value). */
  skipApprovalScreen: z.boolean().optional(),
  /** Our own: a person must be in one of these groups to sign in to this client (beside allowedConnectors). */
  allowedGroups: z.array(z.string().min(1)).optional(),
  /** OpenID RP-Initiated Logout post_logout_redirect_uris, matched exactly. */
  postLogoutRedirectURIs: z.array(absoluteURL.refine((value) => !URL.canParse(value) || !new URL(value).hash, { message: 'must not have a fragment' })).optional(),
  /** OpenID Back-Channel Logout backchannel_logout_uri (http or https, no fragment) and backchannel_logout_session_required. */
  backchannelLogoutURI: absoluteURL
    .refine((value) => !URL.canParse(value) || ['http:', 'https:'].includes(new URL(value).protocol), { message: 'must be an http or https URL' })
    .refine((value) => !URL.canParse(value) || !new URL(value).hash, { message: 'must not have a fragment' })
    .optional(),
  backchannelLogoutSessionRequired: z.boolean().optional(),
};

/** The keys of clientMetadataShape: what a static client passes on to its Client record. */
export const CLIENT_METADATA_KEYS = Object.keys(clientMetadataShape) as Array<keyof typeof clientMetadataShape>;

const refreshTokensSchema = z.strictObject({
  disableRotation: z.boolean().default(false),
  reuseInterval: duration('3s'),
  validIfNotUsedFor: duration('2160h', { positive: true }),
  absoluteLifetime: duration('3960h', { positive: true }),
});

const expirySchema = z.strictObject({
  idTokens: duration('24h', { positive: true }),
  /** Our own: the JWT access token's lifetime (Dex uses idTokens for both). */
  accessTokens: duration('1h', { positive: true }),
  /** Deprecated in Dex in favour of signer.config.keysRotationPeriod; still honoured. */
  signingKeys: z.string().optional(),
  authRequests: duration('24h', { positive: true }),
  /** Our own: authorization code lifetime (Dex hard-codes 30m; 1m is the RFC 6749 recommendation). */
  authCodes: duration('1m', { positive: true }),
  deviceRequests: duration('5m', { positive: true }),
  /** Our own: how long a pushed authorization request's request_uri may be used (RFC 9126 §2.2: short). */
  pushedAuthRequests: duration('1m', { positive: true }),
  refreshTokens: refreshTokensSchema.prefault({}),
});

const oauth2Schema = z.strictObject({
  skipApprovalScreen: z.boolean().default(false),
  alwaysShowLoginScreen: z.boolean().default(false),
  passwordConnector: z.string().optional(),
  responseTypes: z.array(z.enum(RESPONSE_TYPES)).min(1, { message: 'must list at least one response type' }).default(['code']),
  /** Dex's values; `implicit` must agree with responseTypes, which switches that flow (config/grants.ts). */
  grantTypes: z.array(z.enum([...GRANT_TYPES, 'implicit'])).optional(),
  /** Our own: the device flow's polling interval (RFC 8628 `interval`; Dex fixes 5s), in whole seconds. */
  devicePollingInterval: duration('5s', { positive: true }).refine((ms) => ms % 1000 === 0, { message: 'must be whole seconds (e.g. "5s")' }),
  /**
   * Our own: PKCE S256 is always required for public clients; `enforce` requires it for all. `plain`
   * is refused unless `allowPlain` (RFC 9700 §2.1.1: S256 is the method to use).
   */
  pkce: z.strictObject({ enforce: z.boolean().default(false), allowPlain: z.boolean().default(false) }).prefault({}),
  /** Our own (RFC 9126 §5 require_pushed_authorization_requests): every client must use PAR. */
  requirePushedAuthorizationRequests: z.boolean().default(false),
  /** Our own (RFC 9449): how DPoP proofs are accepted at /token and /userinfo. */
  dpop: z
    .strictObject({
      /** A proof's iat may be this far from our clock, before or after; its jti is remembered as long. */
      iatWindow: duration('60s', { positive: true }),
      /** RFC 9449 §8: every proof must carry a nonce of ours (DPoP-Nonce); one without is answered use_dpop_nonce. */
      requireNonce: z.boolean().default(false),
      /** How long one nonce is handed out (default 5m); a nonce is accepted until the next one has been out as long. */
      nonceLifetime: optionalDuration({ positive: true }),
    })
    .prefault({})
    .superRefine((dpop, ctx) => {
      if (dpop.nonceLifetime !== undefined && !dpop.requireNonce) {
        ctx.addIssue({ code: 'custom', path: ['nonceLifetime'], message: 'is used only with requireNonce: true (no nonce is handed out otherwise)' });
      }
    }),
});

/** Refuses a Dex (master) session key idgate does not implement, saying why. */
const unsupportedSessionKey = (reason: string) => z.unknown().refine((value) => value === undefined, { message: reason }).optional();

/**
 * Dex's `sessions` (master): the browser's login session (src/sessions/), shared by every client of the
 * issuer. The cookie holds a random value only; the session ends absoluteLifetime after it started, or
 * validIfNotUsedFor after its last use, whichever comes first.
 */
const sessionsSchema = z.strictObject({
  cookieName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 letters, digits, "_" or "-"' })
    .refine((name) => name !== 'idgate_browser' && name !== 'idgate_device_csrf', { message: 'is the name of another idgate cookie' })
    .default('idgate_session'),
  absoluteLifetime: duration('24h', { positive: true }),
  validIfNotUsedFor: duration('1h', { positive: true }),
  rememberMeCheckedByDefault: unsupportedSessionKey('is not supported: idgate has no remember-me choice; the session cookie lasts as long as the browser session, the session itself at most sessions.absoluteLifetime'),
  cookieEncryptionKey: unsupportedSessionKey('is not needed: the session cookie holds only a random value, whose hash names the session in storage; there is nothing in it to encrypt'),
  ssoSharedWithDefault: unsupportedSessionKey('is not supported: a login session is shared with every client of the issuer (Dex\'s per-client ssoSharedWith is not implemented); a client that wants a fresh login sends prompt=login or max_age'),
});

const staticClientSchema = z
  .strictObject({
    ...clientMetadataShape,
    id: z.string().min(1).optional(),
    idEnv: z.string().optional(),
    secret: z.string().optional(),
    secretEnv: z.string().optional(),
    redirectURIs: z.array(absoluteURL).default([]),
    trustedPeers: z.array(z.string()).default([]),
    public: z.boolean().default(false),
    name: z.string().optional(),
    logoURL: z.string().optional(),
    allowedConnectors: z.array(z.string()).optional(),
    /** Our own: require PKCE for this confidential client. */
    requirePKCE: z.boolean().optional(),
    /** Dex master's per-client session keys, not implemented (docs/login.md#the-login-session). */
    ssoSharedWith: unsupportedSessionKey('is not supported: a login session is shared with every client of the issuer; a client that wants a fresh login sends prompt=login or max_age'),
    refreshTokenLifetime: unsupportedSessionKey('is not supported: the refresh tokens of a login session are revoked when it is ended (logout, idgate sessions end), and outlive it when it expires'),
    /** Our own: CEL claims in this client's tokens and rules for them, docs/claims.md. */
    ...CLIENT_CLAIM_KEYS,
  })
  .superRefine((client, ctx) => {
    if (!client.id && !client.idEnv) ctx.addIssue({ code: 'custom', path: ['id'], message: 'id or idEnv is required' });
    if (!client.public && !client.secret && !client.secretEnv && !SECRETLESS_AUTH_METHODS.includes(client.tokenEndpointAuthMethod ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a confidential client needs secret or secretEnv (or set public: true, or a tokenEndpointAuthMethod without a secret: private_key_jwt, tls_client_auth, self_signed_tls_client_auth)' });
    }
    if (client.public && (client.secret || client.secretEnv)) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a public client must not have a secret' });
    }
    // These grants rest on who the client is, which a public client cannot prove (grants/client_credentials.ts).
    for (const grant of ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] as const) {
      const at = client.public ? (client.grantTypes?.indexOf(grant) ?? -1) : -1;
      if (at >= 0) ctx.addIssue({ code: 'custom', path: ['grantTypes', at], message: `${grant} needs a confidential client (this one is public)` });
    }
    for (const issue of clientAuthIssues(client)) ctx.addIssue({ code: 'custom', ...issue });
  });

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * A bcrypt hash as Dex takes it (server/config.go): the hash itself, or, for backwards compatibility,
 * its standard base64 encoding. Returns the bcrypt form, or undefined if the value is neither.
 */
export function bcryptHashOf(value: string): string | undefined {
  if (BCRYPT.test(value)) return value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  return BCRYPT.test(decoded) ? decoded : undefined;
}

const bcryptHash = z.string().refine((value) => bcryptHashOf(value) !== undefined, { message: 'not a bcrypt hash (nor the base64 of one)' });

const staticPasswordSchema = z
  .strictObject({
    email: z.email({ message: 'not an email address' }),
    hash: bcryptHash.optional(),
    hashFromEnv: z.string().optional(),
    username: z.string().min(1),
    userID: z.string().min(1),
    groups: z.array(z.string()).optional(),
    preferredUsername: z.string().optional(),
    emailVerified: z.boolean().optional(),
  })
  .superRefine((entry, ctx) => {
    if (!entry.hash && !entry.hashFromEnv) ctx.addIssue({ code: 'custom', path: ['hash'], message: 'hash or hashFromEnv is required' });
  });

const connectorSchema = z.strictObject({
  type: z.string().min(1),
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, { message: 'must be letters, digits, ".", "_" or "-"' }),
  name: z.string().min(1),
  /** Validated against the connector type's own schema by the loader. */
  config: z.unknown().optional(),
  grantTypes: z.array(z.string()).optional(),
  /** Our own (Kubernetes' AuthenticationConfiguration names): CEL claim mappings and rules, docs/claims.md. */
  ...CONNECTOR_CLAIM_KEYS,
  /** Our own: authenticators this connector's logins must pass (sessions/mfa/config.ts). */
  ...CONNECTOR_MFA_KEYS,
});

const signerSchema = z.strictObject({
  type: z.literal('local').default('local'),
  config: z
    .strictObject({
      algorithm: z.enum(['RS256', 'ES256', 'EdDSA']).default('RS256'),
      keysRotationPeriod: z.string().optional(),
    })
    .prefault({}),
});

const loggerSchema = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  format: z.enum(['json', 'text']).default('json'),
  excludeFields: z.array(z.string()).optional(),
});

/** True for an address only this host can reach (127.0.0.0/8, [::1], localhost); ":5557" listens everywhere. */
export function isLoopbackAddress(address: string): boolean {
  const host = LISTEN_ADDRESS.exec(address)?.[1] ?? '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Dex's `grpc:` (its management API, admin/api/). The API changes clients, passwords and connectors
 * and has no authentication of its own but the client certificate, so off loopback it must be mutual
 * TLS; on loopback Dex's plain or server-only TLS setups are kept.
 */
const grpcSchema = z
  .strictObject({
    addr: listenAddress,
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    tlsClientCA: z.string().min(1).optional(),
    tlsMinVersion: tlsVersion.optional(),
    tlsMaxVersion: tlsVersion.optional(),
    reflection: z.boolean().default(false),
  })
  .superRefine((grpc, ctx) => {
    if (grpc.tlsCert && !grpc.tlsKey) ctx.addIssue({ code: 'custom', path: ['tlsKey'], message: 'is required with tlsCert' });
    if (grpc.tlsKey && !grpc.tlsCert) ctx.addIssue({ code: 'custom', path: ['tlsCert'], message: 'is required with tlsKey' });
    for (const key of ['tlsClientCA', 'tlsMinVersion', 'tlsMaxVersion'] as const) {
      if (grpc[key] && !grpc.tlsCert) ctx.addIssue({ code: 'custom', path: [key], message: 'needs tlsCert and tlsKey (TLS on the API listener)' });
    }
    if (grpc.tlsMinVersion && grpc.tlsMaxVersion && grpc.tlsMinVersion > grpc.tlsMaxVersion) {
      ctx.addIssue({ code: 'custom', path: ['tlsMaxVersion'], message: `is lower than tlsMinVersion (${grpc.tlsMinVersion})` });
    }
    if (!isLoopbackAddress(grpc.addr) && !(grpc.tlsCert && grpc.tlsKey && grpc.tlsClientCA)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tlsClientCA'],
        message: `the management API on ${grpc.addr} (not a loopback address) needs mutual TLS: set tlsCert, tlsKey and tlsClientCA, or listen on 127.0.0.1 (docs/admin-api.md)`,
      });
    }
  });

/** Our own: OpenTelemetry traces, exported over OTLP/HTTP; no section, no tracing. */
const tracingSchema = z.strictObject({
  otlpEndpoint: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: 'not an http(s) URL (the OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces)',
  }),
  serviceName: z.string().min(1, { message: 'must not be empty' }).default('idgate'),
  sampleRatio: z.number().min(0, { message: 'must be between 0 and 1' }).max(1, { message: 'must be between 0 and 1' }).default(1),
});

/** The issuer's audit stream (idgate's own key; the filter's is filter.audit): stdout, a file, or both. */
const auditSchema = z.strictObject({
  stdout: z.boolean().default(true),
  file: z.string().min(1).optional(),
});

const loginSchema = z.strictObject({
  /**
   * Authorization requests stored per client IP in `window` (each waits in storage for its login until
   * expiry.authRequests): beyond `maxPerClientIP` the IP is refused with a 429 page for `window`.
   */
  authRequests: z
    .strictObject({
      maxPerClientIP: z.number().int().positive().default(300),
      window: duration('10m', { positive: true }),
    })
    .prefault({}),
  /** Failed password attempts allowed per user (and per client IP) in `window` before a wait is imposed. */
  throttle: z
    .strictObject({
      maxFailures: z.number().int().positive().default(5),
      window: duration('15m', { positive: true }),
      lockout: duration('5m', { positive: true }),
    })
    .prefault({}),
});

export const configSchema = z
  .strictObject({
    issuer: absoluteURL.refine((value) => !value.includes('?') && !value.includes('#'), {
      message: 'must not have a query or fragment',
    }),
    storage: storageSchema,
    web: webSchema.prefault({}),
    telemetry: z.strictObject({ http: listenAddress.optional(), enableProfiling: z.boolean().optional(), tracing: tracingSchema.optional() }).prefault({}),
    grpc: grpcSchema.optional(),
    frontend: frontendSchema.optional(),
    expiry: expirySchema.prefault({}),
    oauth2: oauth2Schema.prefault({}),
    signer: signerSchema.prefault({}),
    staticClients: z.array(staticClientSchema).default([]),
    enablePasswordDB: z.boolean().default(false),
    staticPasswords: z.array(staticPasswordSchema).default([]),
    connectors: z.array(connectorSchema).default([]),
    logger: loggerSchema.prefault({}),
    audit: auditSchema.prefault({}),
    login: loginSchema.prefault({}),
    sessions: sessionsSchema.prefault({}),
    filter: filterConfigSchema.optional(),
    /** Our own: the operator console on the telemetry listener (admin/console/config.ts). */
    console: consoleConfigSchema.optional(),
    /** Dex's (master) multi-factor sign-in: TOTP and WebAuthn authenticators, the default chain (sessions/mfa/config.ts). */
    mfa: mfaConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.console && !config.telemetry.http) {
      ctx.addIssue({ code: 'custom', path: ['console'], message: 'the console is served on the telemetry listener: set telemetry.http too' });
    }
    if (!config.web.http && !config.web.https && !config.filter) {
      ctx.addIssue({ code: 'custom', path: ['web'], message: 'set web.http or web.https (or a filter section) so idgate has something to serve' });
    }
    const { tlsMinVersion, tlsMaxVersion } = config.web;
    if (tlsMinVersion && tlsMaxVersion && tlsMinVersion > tlsMaxVersion) {
      ctx.addIssue({ code: 'custom', path: ['web', 'tlsMaxVersion'], message: `is lower than tlsMinVersion (${tlsMinVersion})` });
    }
    if (config.grpc && !config.web.http && !config.web.https) {
      ctx.addIssue({ code: 'custom', path: ['grpc'], message: 'the management API runs beside the issuer: set web.http or web.https too' });
    }
    if (config.web.https && (!config.web.tlsCert || !config.web.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: ['web', 'https'], message: 'needs web.tlsCert and web.tlsKey' });
    }
    for (const issue of clientCertificateIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of mfaConfigIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    const seen = new Set<string>();
    config.connectors.forEach((connector, index) => {
      if (seen.has(connector.id)) ctx.addIssue({ code: 'custom', path: ['connectors', index, 'id'], message: `duplicate connector id "${connector.id}"` });
      seen.add(connector.id);
    });
    if (config.enablePasswordDB && seen.has('local')) {
      ctx.addIssue({ code: 'custom', path: ['connectors'], message: 'the connector id "local" is reserved for the password DB (enablePasswordDB)' });
    }
  });

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
