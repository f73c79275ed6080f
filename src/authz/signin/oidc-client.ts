/**
 * The filter as an OIDC client of its issuer, over HTTP with openid-client like any relying party
 * (even when the issuer shares the process): discovery (on first use, retried after a failure at most
 * once per cooldown, so an issuer that is down when the filter starts does not stop it), the
 * authorization URL with PKCE, state and nonce, the code exchange with every check openid-client
 * makes (state, iss, nonce, ID token signature and claims), and the RP-initiated logout URL.
 */
import * as oidc from 'openid-client';

/** Why a sign-in step failed: the issuer or the response refused it, or the issuer could not be reached. */
export class SignInError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable',
    /** A stable reason for the audit line (an OAuth error code, or openid-client's check code). */
    readonly reason: string,
  ) {
    super(`sign-in ${kind}: ${reason}`);
    this.name = 'SignInError';
  }
}

export interface OidcClientOptions {
  issuer: string;
  clientID: string;
  clientSecret: string;
  now: () => number;
  /** Seconds a request to the issuer may take. */
  timeoutSeconds: number;
  retryCooldownMs?: number;
}

export interface AuthorizationStart {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export class OidcClient {
  private configuration: oidc.Configuration | undefined;
  private discovering: Promise<oidc.Configuration> | undefined;
  private lastFailure = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: OidcClientOptions) {}

  /** The issuer's metadata, discovered once; undefined while it cannot be had. */
  private async config(): Promise<oidc.Configuration> {
    if (this.configuration) return this.configuration;
    if (this.discovering) return this.discovering;
    if (this.options.now() - this.lastFailure < (this.options.retryCooldownMs ?? 5_000)) throw new SignInError('unavailable', 'issuer_discovery_failed');
    const { issuer, clientID, clientSecret, timeoutSeconds } = this.options;
    const insecure = new URL(issuer).protocol === 'http:';
    this.discovering = oidc
      .discovery(new URL(issuer), clientID, undefined, oidc.ClientSecretBasic(clientSecret), {
        timeout: timeoutSeconds,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .then((configuration) => {
        configuration.timeout = timeoutSeconds;
        this.configuration = configuration;
        return configuration;
      })
      .catch(() => {
        this.lastFailure = this.options.now();
        throw new SignInError('unavailable', 'issuer_discovery_failed');
      })
      .finally(() => {
        this.discovering = undefined;
      });
    return this.discovering;
  }

  /** The issuer's jwks_uri, for verifying logout tokens when the issuer is not in this process. */
  async jwksURI(): Promise<string | undefined> {
    return (await this.config()).serverMetadata().jwks_uri;
  }

  async startAuthorization(redirectURI: string, scopes: readonly string[]): Promise<AuthorizationStart> {
    const config = await this.config();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectURI,
      response_type: 'code',
      scope: scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /** Exchanges the code in `callbackURL`; the verified ID token's claims. */
  async finishAuthorization(callbackURL: string, checks: { state: string; nonce: string; codeVerifier: string }): Promise<Record<string, unknown>> {
    const config = await this.config();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(callbackURL), {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new SignInError('refused', 'no_id_token');
      return { ...claims };
    } catch (error) {
      throw asSignInError(error);
    }
  }

  /** Where to send the browser to end the issuer's session, or undefined when the issuer has no end_session_endpoint. */
  async endSessionURL(postLogoutRedirectURI: string): Promise<string | undefined> {
    const config = await this.config().catch(() => undefined);
    if (!config?.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectURI }).href;
  }
}

function asSignInError(error: unknown): SignInError {
  if (error instanceof SignInError) return error;
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) return new SignInError('refused', error.error);
  const code = (error as { code?: unknown })?.code;
  // openid-client's own checks (state, iss, nonce, signature, claims) carry OAUTH_* codes; anything else is the network.
  if (typeof code === 'string' && code.startsWith('OAUTH_')) return new SignInError('refused', code.toLowerCase());
  return new SignInError('unavailable', 'issuer_unreachable');
}
