/**
 * The `oidc` connector: idgate as a relying party of an upstream OpenID Provider (openid-client v6).
 * Authorization code flow with PKCE, state and nonce; the ID token's signature verified against the
 * upstream JWKS; RFC 9207 `iss` checked; userinfo merged under the subject check; upstream refresh;
 * upstream tokens verified for the token exchange grant (token-identity.ts).
 */
import * as client from 'openid-client';
import {
  ConnectorError,
  registerConnector,
  type CallbackConnector,
  type ConnectorContext,
  type Identity,
  type RefreshConnector,
  type Scopes,
  type SubjectTokenType,
  type TokenIdentityConnector,
  type VerifiedSubjectToken,
} from '../../src/connector.js';
import { identityFromClaims, type Claims } from './claims.js';
import { oidcConfigSchema, type OIDCConfig } from './config.js';
import { UpstreamTokenVerifier } from './token-identity.js';
import { Upstream, upstreamError } from './upstream.js';

/** Kept with the auth request between loginURL and handleCallback. */
interface LoginState {
  verifier: string;
  nonce: string;
  state: string;
  redirectURI: string;
}

/** Kept with the identity (server-side only) for refresh. */
interface SessionState {
  refreshToken?: string;
  /** The upstream `sub`, for the userinfo subject check on refresh. */
  sub: string;
}

const encode = (value: object): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function decode<T>(data: Uint8Array | undefined, what: string): T {
  if (!data) throw new ConnectorError('invalid_response', `the ${what} is missing; start the login again`);
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch (error) {
    throw new ConnectorError('invalid_response', `the ${what} is unreadable; start the login again`, { cause: error });
  }
}

export class OIDCConnector implements CallbackConnector, RefreshConnector, TokenIdentityConnector {
  readonly kind = 'callback';
  private readonly upstream: Upstream;
  private readonly scopes: string[];
  private readonly upstreamTokens: UpstreamTokenVerifier;

  constructor(
    private readonly config: OIDCConfig,
    private readonly context: ConnectorContext,
  ) {
    this.upstream = new Upstream(config, context.tracing);
    this.scopes = ['openid', ...(config.scopes ?? ['profile', 'email']).filter((scope) => scope !== 'openid')];
    this.upstreamTokens = new UpstreamTokenVerifier(config, context.now);
  }

  async loginURL(scopes: Scopes, callbackURL: string, state: string): Promise<{ url: string; connectorData: Uint8Array }> {
    // Checked when the connector opened: this connector's callback, or Dex's shared <issuer>/callback.
    const redirectURI = this.config.redirectURI ?? callbackURL;
    const configuration = await this.discovered();
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const requested = [...this.scopes];
    if (scopes.offlineAccess && !requested.includes('offline_access')) requested.push('offline_access');
    const parameters: Record<string, string> = {
      redirect_uri: redirectURI,
      scope: requested.join(' '),
      state,
      nonce,
      code_challenge: this.config.pkceChallenge === 'S256' ? await client.calculatePKCECodeChallenge(verifier) : verifier,
      code_challenge_method: this.config.pkceChallenge,
    };
    if (scopes.offlineAccess && this.config.promptType) parameters.prompt = this.config.promptType;
    if (this.config.acrValues.length > 0) parameters.acr_values = this.config.acrValues.join(' ');
    const url = client.buildAuthorizationUrl(configuration, parameters);
    const data: LoginState = { verifier, nonce, state, redirectURI };
    return { url: url.href, connectorData: encode(data) };
  }

  async handleCallback(
    _scopes: Scopes,
    connectorData: Uint8Array | undefined,
    request: { url: URL; body?: Record<string, string> },
  ): Promise<Identity> {
    const login = decode<LoginState>(connectorData, 'login state');
    const configuration = await this.discovered();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      // redirect_uri at the token endpoint must be what was sent, whatever host the callback reached.
      const current = new URL(login.redirectURI);
      current.search = new URL(request.url).search;
      if (request.body) for (const [key, value] of Object.entries(request.body)) current.searchParams.set(key, value);
      tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.failed(error, 'login');
    }
    const claims = tokens.claims() as Claims | undefined;
    if (!claims) throw new ConnectorError('invalid_response', 'the identity provider sent no ID token');
    const merged = await this.withUserInfo(configuration, tokens.access_token, claims);
    const identity = identityFromClaims(this.config, merged, this.scopes.includes('email'));
    const session: SessionState = { refreshToken: tokens.refresh_token, sub: String(claims.sub) };
    return { ...identity, connectorData: encode(session) };
  }

  async refresh(_scopes: Scopes, identity: Identity): Promise<Identity> {
    const session = decode<SessionState>(identity.connectorData, 'upstream session');
    if (!session.refreshToken) {
      throw new ConnectorError('access_denied', 'the identity provider issued no refresh token at login, so the session cannot be refreshed');
    }
    const configuration = await this.discovered();
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(configuration, session.refreshToken);
    } catch (error) {
      throw this.failed(error, 'refresh');
    }
    const idClaims = tokens.claims() as Claims | undefined;
    if (idClaims && idClaims.sub !== session.sub) {
      throw new ConnectorError('invalid_response', 'the refreshed ID token names a different user');
    }
    const next: SessionState = { refreshToken: tokens.refresh_token ?? session.refreshToken, sub: session.sub };
    if (!idClaims && !this.config.getUserInfo) return { ...identity, connectorData: encode(next) };
    const claims = await this.withUserInfo(configuration, tokens.access_token, idClaims ?? { sub: session.sub });
    const refreshed = identityFromClaims(this.config, { ...claims, sub: session.sub }, false);
    if (refreshed.userId !== identity.userId) {
      throw new ConnectorError('invalid_response', 'the refreshed identity names a different user');
    }
    return {
      ...refreshed,
      email: refreshed.email ?? identity.email,
      emailVerified: refreshed.email ? refreshed.emailVerified : identity.emailVerified,
      connectorData: encode(next),
    };
  }

  /** Token exchange: the upstream token verified, then mapped as a login's claims are (no upstream session to keep). */
  async tokenIdentity(subjectTokenType: SubjectTokenType, subjectToken: string): Promise<VerifiedSubjectToken> {
    const configuration = await this.discovered();
    const { claims, expiresAt } = await this.upstreamTokens.verify(configuration, subjectTokenType, subjectToken);
    const identity = identityFromClaims(this.config, claims, this.scopes.includes('email'));
    return { identity, ...(expiresAt !== undefined && { expiresAt }) };
  }

  private async discovered() {
    try {
      return await this.upstream.configuration();
    } catch (error) {
      throw this.failed(error, 'discovery');
    }
  }

  /** The ConnectorError for the person; operators also get a log line when the upstream is unreachable. */
  private failed(error: unknown, step: string): ConnectorError {
    const refused = upstreamError(error, step);
    if (refused.code === 'upstream_unavailable' || refused.code === 'upstream_error') {
      this.context.logger.warn({ connector: this.context.id, step, err: refused.message }, 'oidc upstream failed');
    }
    return refused;
  }

  /** Merges /userinfo over the ID token's claims when getUserInfo is set; `sub` must match. */
  private async withUserInfo(configuration: client.Configuration, accessToken: string, claims: Claims): Promise<Claims> {
    if (!this.config.getUserInfo) return claims;
    try {
      const userinfo = await client.fetchUserInfo(configuration, accessToken, String(claims.sub));
      return { ...claims, ...userinfo };
    } catch (error) {
      throw this.failed(error, 'userinfo');
    }
  }
}

/**
 * redirectURI, when set, must be where idgate takes this connector's answers: its own callback, or
 * the shared <issuer>/callback Dex configs use (the auth request in `state` names the connector).
 * Refused when the connector opens, so `idgate check` reports it rather than every login failing.
 */
function checkRedirectURI(config: OIDCConfig, context: ConnectorContext): void {
  if (config.redirectURI === undefined) return;
  const allowed = [`${context.issuer}/callback/${encodeURIComponent(context.id)}`, `${context.issuer}/callback`];
  if (!allowed.includes(config.redirectURI)) {
    throw new ConnectorError('misconfigured', `redirectURI must be ${allowed.join(' or ')} (idgate's callbacks), not ${config.redirectURI}`);
  }
}

registerConnector<OIDCConfig>('oidc', {
  kind: 'callback',
  configSchema: oidcConfigSchema,
  async open(config, context) {
    checkRedirectURI(config, context);
    context.logger.debug({ connector: context.id, issuer: config.issuer }, 'oidc connector configured');
    return new OIDCConnector(config, context);
  },
});
