/**
 * A plain OAuth 2.0 upstream (no discovery, no ID token) as openid-client sees it, for the github,
 * gitlab, microsoft and oauth connectors: the authorization URL with PKCE (S256) and `state`, the
 * code and refresh grants, client authentication, bounded timeouts, root CAs and spans. The same fetch
 * serves the connector's API calls (upstream-api.ts), so they share the TLS trust and the timeout.
 */
import * as client from 'openid-client';
import { ConnectorError } from '../src/connector.js';
import type { Tracing } from '../src/telemetry/tracing.js';
import { fetchTrusting, type UpstreamFetch } from './oidc/tls-fetch.js';
import { tracedFetch } from './oidc/traced-fetch.js';
import { upstreamError } from './oidc/upstream.js';
import { isLoopback } from './upstream-config.js';

/**
 * How idgate authenticates at the token endpoint: the secret in the POST body (what GitHub, GitLab
 * and Microsoft document), a method of the connector's own (a client assertion), or `auto`,
 * golang.org/x/oauth2's autodetection that Dex's generic oauth connector relies on: HTTP Basic
 * first, the POST body after an `invalid_client` answer.
 */
export type TokenEndpointAuth = 'client_secret_post' | 'auto' | client.ClientAuth;

export interface OAuth2Settings {
  /** The connector type, named in spans. */
  label: string;
  clientID: string;
  clientSecret: string;
  authorizationURL: string;
  tokenURL: string;
  tokenEndpointAuth: TokenEndpointAuth;
  /** PEM texts trusted for TLS instead of the system store; empty: the system store. */
  rootCAs?: string[];
  /** Accept any TLS certificate (Dex's `insecureSkipVerify`, generic oauth only). */
  insecureSkipVerify?: boolean;
  timeout: number;
  now: () => number;
  tracing?: Tracing;
}

/** Kept with the auth request between loginURL and handleCallback. */
export interface LoginState {
  verifier: string;
  state: string;
  redirectURI: string;
}

/** What a connector keeps of the upstream's tokens (server-side only, in connectorData). */
export interface UpstreamTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms; absent when the upstream said nothing (GitHub OAuth apps: tokens do not expire). */
  expiresAt?: number;
}

const globalFetch: UpstreamFetch = (url, options) => fetch(url, options as RequestInit);

/** The fetch for one upstream: the system store or only `rootCAs` (or no check at all), and spans. */
export function upstreamFetch(options: { label: string; rootCAs?: string[]; insecureSkipVerify?: boolean; tracing?: Tracing }): UpstreamFetch {
  const { rootCAs = [], insecureSkipVerify = false } = options;
  const trusting = rootCAs.length > 0 || insecureSkipVerify ? fetchTrusting(rootCAs, { rejectUnauthorized: !insecureSkipVerify }) : globalFetch;
  return options.tracing ? tracedFetch(options.tracing, trusting, options.label) : trusting;
}

/**
 * Token endpoint answers, made what RFC 6749 says they are: GitHub answers a refused code with 200 and
 * `{"error": ...}`, which becomes the 400 it means; an `id_token` is dropped because no plain OAuth 2.0
 * connector uses one, and openid-client would otherwise judge it against an issuer these upstreams
 * do not have.
 */
function normalizingTokenResponses(inner: UpstreamFetch, tokenURL: string): UpstreamFetch {
  return async (url, options) => {
    const response = await inner(url, options);
    if (options.method !== 'POST' || url.split('?')[0] !== tokenURL) return response;
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return new Response(text, { status: response.status, headers: response.headers });
    }
    let status = response.status;
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const fields = body as Record<string, unknown>;
      delete fields.id_token;
      if (status === 200 && typeof fields.error === 'string' && fields.access_token === undefined) status = 400;
    }
    const headers = new Headers(response.headers);
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    return new Response(JSON.stringify(body), { status, headers });
  };
}

/**
 * The authorization response as openid-client reads it: the parameters that came back (query, or the
 * form_post body) on the redirect URI that was sent, which the token request must repeat whatever
 * host the callback reached.
 */
export function responseURL(redirectURI: string, request: { url: URL; body?: Record<string, string> }): URL {
  const current = new URL(redirectURI);
  current.search = new URL(request.url).search;
  if (request.body) for (const [key, value] of Object.entries(request.body)) current.searchParams.set(key, value);
  return current;
}

export class OAuth2Upstream {
  /** The fetch for this upstream (root CAs, spans); API calls use it too. */
  readonly fetch: UpstreamFetch;
  private readonly configuration: client.Configuration;
  private useBasic: boolean;

  constructor(private readonly settings: OAuth2Settings) {
    this.fetch = upstreamFetch(settings);
    this.useBasic = settings.tokenEndpointAuth === 'auto';
    const metadata: client.ServerMetadata = {
      issuer: new URL(settings.authorizationURL).origin,
      authorization_endpoint: settings.authorizationURL,
      token_endpoint: settings.tokenURL,
    };
    this.configuration = new client.Configuration(metadata, settings.clientID, undefined, this.clientAuth());
    this.configuration.timeout = settings.timeout / 1000;
    this.configuration[client.customFetch] = normalizingTokenResponses(this.fetch, settings.tokenURL) as client.CustomFetch;
    if ([settings.authorizationURL, settings.tokenURL].some((url) => url.startsWith('http:') && isLoopback(url))) {
      client.allowInsecureRequests(this.configuration);
    }
  }

  /** The browser's redirect: `scope`, `state`, PKCE, and the connector's own parameters (prompt, hd...). */
  async start(redirectURI: string, state: string, scopes: readonly string[], extra: Record<string, string> = {}): Promise<{ url: string; login: LoginState }> {
    const verifier = client.randomPKCECodeVerifier();
    const parameters: Record<string, string> = {
      redirect_uri: redirectURI,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    };
    if (scopes.length > 0) parameters.scope = scopes.join(' ');
    const url = client.buildAuthorizationUrl(this.configuration, parameters);
    return { url: url.href, login: { verifier, state, redirectURI } };
  }

  /**
   * Checks the callback (`state`, an `error` answer) and redeems the code with the PKCE verifier. The
   * callback's `iss` is not compared: these upstreams publish no issuer; the per-connector callback URL
   * and the state bound to the auth request already tell one upstream's answer from another's.
   */
  async redeem(login: LoginState, request: { url: URL; body?: Record<string, string> }): Promise<UpstreamTokens> {
    const current = responseURL(login.redirectURI, request);
    current.searchParams.delete('iss');
    const grant = () => client.authorizationCodeGrant(this.configuration, current, { pkceCodeVerifier: login.verifier, expectedState: login.state });
    return this.tokens(await this.withClientAuth(grant, 'login'));
  }

  /** The refresh grant; a refusal (revoked, expired) is ConnectorError('access_denied'). */
  async refresh(refreshToken: string): Promise<UpstreamTokens> {
    const tokens = this.tokens(await this.withClientAuth(() => client.refreshTokenGrant(this.configuration, refreshToken), 'refresh'));
    return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
  }

  /**
   * Tokens good for an API call now: the stored ones while the access token lives (a minute of
   * margin), else renewed with the refresh token; an expired token without one is access_denied.
   */
  async current(tokens: UpstreamTokens): Promise<UpstreamTokens> {
    if (tokens.expiresAt === undefined || tokens.expiresAt - 60_000 > this.settings.now()) return tokens;
    if (!tokens.refreshToken) {
      throw new ConnectorError('access_denied', 'the upstream access token has expired and the identity provider issued no refresh token');
    }
    return this.refresh(tokens.refreshToken);
  }

  private tokens(response: client.TokenEndpointResponse): UpstreamTokens {
    return {
      accessToken: response.access_token,
      ...(response.refresh_token && { refreshToken: response.refresh_token }),
      ...(response.expires_in !== undefined && { expiresAt: this.settings.now() + response.expires_in * 1000 }),
    };
  }

  /**
   * Runs a token request; with `auto`, a refused client under HTTP Basic switches to the POST body for
   * good. A refused client is `invalid_client`, or (RFC 6749 §5.2, after Basic) a 401 challenge.
   */
  private async withClientAuth<T>(request: () => Promise<T>, step: string): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const refusedClient = (error instanceof client.ResponseBodyError && error.error === 'invalid_client')
        || (error instanceof client.WWWAuthenticateChallengeError && error.response.status === 401);
      if (refusedClient && this.settings.tokenEndpointAuth === 'auto' && this.useBasic) {
        this.useBasic = false;
        return this.withClientAuth(request, step);
      }
      if (refusedClient) {
        throw new ConnectorError('upstream_error', `the identity provider refused idgate's client credentials at the ${step} request (invalid_client); check clientID and clientSecret`, { cause: error });
      }
      throw upstreamError(error, step);
    }
  }

  private clientAuth(): client.ClientAuth {
    const { tokenEndpointAuth, clientSecret } = this.settings;
    if (typeof tokenEndpointAuth === 'function') return tokenEndpointAuth;
    const basic = client.ClientSecretBasic(clientSecret);
    const post = client.ClientSecretPost(clientSecret);
    return (as, metadata, body, headers) => (this.useBasic ? basic : post)(as, metadata, body, headers);
  }
}
