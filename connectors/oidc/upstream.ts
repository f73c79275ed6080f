/**
 * The upstream OpenID Provider as openid-client sees it: discovery (lazy, retried after a failure),
 * `providerDiscoveryOverrides`, client authentication, bounded timeouts, root CAs, ID token
 * signature verification; and the translation of openid-client's errors into ConnectorErrors a
 * person can read.
 */
import * as client from 'openid-client';
import { ConnectorError } from '../../src/connector.js';
import type { OIDCConfig } from './config.js';
import { fetchTrusting, readRootCAs } from './tls-fetch.js';
import { tracedFetch } from './traced-fetch.js';
import type { Tracing } from '../../src/telemetry/tracing.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** What the upstream needs of a config: the oidc connector's, or one a connector built on OIDC (google) makes. */
export type UpstreamSettings = Pick<
  OIDCConfig,
  'issuer' | 'clientID' | 'clientSecret' | 'basicAuthUnsupported' | 'rootCAs' | 'upstreamTimeout' | 'providerDiscoveryOverrides'
>;

export class Upstream {
  private pending: Promise<client.Configuration> | undefined;
  private readonly trusted: string[];

  constructor(
    private readonly config: UpstreamSettings,
    private readonly tracing?: Tracing,
    /** The connector type named in spans. */
    private readonly label = 'oidc',
  ) {
    this.trusted = readRootCAs(config.rootCAs);
  }

  /** The discovered configuration; a failed discovery is retried on the next call. */
  configuration(): Promise<client.Configuration> {
    this.pending ??= this.discover().catch((error: unknown) => {
      this.pending = undefined;
      throw upstreamError(error, 'discovery');
    });
    return this.pending;
  }

  private options(): client.DiscoveryRequestOptions {
    const options: client.DiscoveryRequestOptions = { timeout: this.config.upstreamTimeout / 1000 };
    // Plain http is tolerated only for an upstream on this machine (tests, local development).
    if (LOOPBACK.has(new URL(this.config.issuer).hostname)) options.execute = [client.allowInsecureRequests];
    const trusting = this.trusted.length > 0 ? fetchTrusting(this.trusted) : undefined;
    if (this.tracing) options[client.customFetch] = tracedFetch(this.tracing, trusting, this.label);
    else if (trusting) options[client.customFetch] = trusting;
    return options;
  }

  private clientAuth(): client.ClientAuth {
    if (!this.config.clientSecret) return client.None();
    return this.config.basicAuthUnsupported
      ? client.ClientSecretPost(this.config.clientSecret)
      : client.ClientSecretBasic(this.config.clientSecret);
  }

  private async discover(): Promise<client.Configuration> {
    const options = this.options();
    const discovered = await client.discovery(new URL(this.config.issuer), this.config.clientID, undefined, this.clientAuth(), options);
    const overrides = this.config.providerDiscoveryOverrides;
    const { supportsPKCE: _supportsPKCE, ...discoveredMetadata } = discovered.serverMetadata();
    const metadata: client.ServerMetadata = {
      ...discoveredMetadata,
      ...(overrides.authURL && { authorization_endpoint: overrides.authURL }),
      ...(overrides.tokenURL && { token_endpoint: overrides.tokenURL }),
      ...(overrides.jwksURL && { jwks_uri: overrides.jwksURL }),
      ...(overrides.userInfoURL && { userinfo_endpoint: overrides.userInfoURL }),
      ...(overrides.deviceAuthURL && { device_authorization_endpoint: overrides.deviceAuthURL }),
      ...(overrides.endSessionURL && { end_session_endpoint: overrides.endSessionURL }),
    };
    const configuration = new client.Configuration(metadata, this.config.clientID, undefined, this.clientAuth());
    configuration.timeout = options.timeout;
    if (options.execute) client.allowInsecureRequests(configuration);
    const fetchWithCAs = options[client.customFetch];
    if (fetchWithCAs) configuration[client.customFetch] = fetchWithCAs;
    // The ID token's signature is checked against the upstream JWKS, not merely trusted over TLS.
    client.enableNonRepudiationChecks(configuration);
    return configuration;
  }
}

/** The error and its causes, outermost first (openid-client wraps oauth4webapi's specific errors). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 5; current = (current as { cause?: unknown } | null)?.cause) {
    chain.push(current);
    if (typeof current !== 'object' || current === null) break;
  }
  return chain;
}

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/** Maps whatever openid-client (or the network) threw into a ConnectorError with a readable reason. */
export function upstreamError(error: unknown, step: string): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const cause = { cause: error };
  if (error instanceof client.AuthorizationResponseError) {
    const detail = error.error_description ? `: ${error.error_description}` : '';
    const code = error.error === 'access_denied' ? 'access_denied' : 'upstream_error';
    return new ConnectorError(code, `the identity provider refused the login (${error.error}${detail})`, cause);
  }
  if (error instanceof client.ResponseBodyError) {
    const detail = error.error_description ? `: ${error.error_description}` : '';
    const code = error.error === 'invalid_grant' ? 'access_denied' : 'upstream_error';
    return new ConnectorError(code, `the identity provider answered the ${step} request with ${error.error}${detail}`, cause);
  }
  const chain = causeChain(error);
  const name = (item: unknown) => (item as { name?: unknown } | null)?.name;
  if (chain.some((item) => name(item) === 'TimeoutError' || name(item) === 'AbortError')) {
    return new ConnectorError('upstream_unavailable', `the identity provider did not answer the ${step} request in time`, cause);
  }
  const tls = chain.map(codeOf).find((code): code is string => typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code));
  if (tls) {
    return new ConnectorError('upstream_unavailable', `the identity provider's TLS certificate is not trusted (${tls}); see rootCAs`, cause);
  }
  const network = chain.find((item) => (item as NodeJS.ErrnoException | null)?.syscall || (item instanceof TypeError && /fetch failed/.test(item.message)));
  if (network) {
    return new ConnectorError('upstream_unavailable', `the identity provider could not be reached (${step})`, cause);
  }
  // The innermost OAUTH_* error names the exact check that failed ('unexpected JWT "iss" claim value').
  const specific = chain.filter((item) => String(codeOf(item) ?? '').startsWith('OAUTH_')).pop() as Error | undefined;
  const code = String(codeOf(specific) ?? '');
  if (specific && (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON')) {
    return new ConnectorError('upstream_error', `the identity provider sent a malformed ${step} response: ${specific.message}`, cause);
  }
  if (specific) {
    return new ConnectorError('invalid_response', `the identity provider's ${step} response was refused: ${specific.message}`, cause);
  }
  const message = (error as Error | undefined)?.message ?? String(error);
  return new ConnectorError('upstream_error', `the ${step} request to the identity provider failed: ${message}`, cause);
}
