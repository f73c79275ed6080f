/**
 * The generic `oauth` connector (Dex's): any OAuth 2.0 server with an authorization endpoint, a token
 * endpoint and a userinfo URL. The authorization code flow (oauth2-connector.ts; the client secret by
 * HTTP Basic, or in the body when the server refuses Basic), then the person from the userinfo URL
 * mapped by `userIDKey` and `claimMapping`. Refresh, which Dex's connector lacks, renews an expired
 * token with the refresh token and reads the userinfo again.
 */
import { ConnectorError, registerConnector, type Identity, type Scopes } from '../../src/connector.js';
import { OAuth2Connector, type OAuth2Provider } from '../oauth2-connector.js';
import { OAuth2Upstream } from '../oauth2-upstream.js';
import { readRootCAs } from '../oidc/tls-fetch.js';
import { UpstreamAPI } from '../upstream-api.js';
import { checkRedirectURI } from '../upstream-config.js';
import { upstreamSteps, type StepRunner } from '../upstream-failure.js';
import { identityFromUserInfo, type UserInfo } from './claims.js';
import { oauthConfigSchema, type OAuthConfig } from './config.js';

class UserInfoProvider implements OAuth2Provider {
  readonly name = 'the userinfo URL';

  constructor(
    private readonly config: OAuthConfig,
    private readonly api: UpstreamAPI,
    private readonly step: StepRunner,
  ) {}

  scopes(): string[] {
    return this.config.scopes;
  }

  async identity(scopes: Scopes, token: string): Promise<Identity> {
    const { body } = await this.step('userinfo', () => this.api.get<unknown>(this.config.userInfoURL, token, 'userinfo'));
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new ConnectorError('invalid_response', 'the userinfo response is not a JSON object');
    }
    // The userinfo object itself, for claim expressions (docs/claims.md).
    return { ...identityFromUserInfo(this.config, body as UserInfo, token, scopes.groups), claims: body as Record<string, unknown> };
  }
}

registerConnector<OAuthConfig>('oauth', {
  kind: 'callback',
  configSchema: oauthConfigSchema,
  async open(config, context) {
    if (config.insecureSkipVerify) {
      context.logger.warn({ connector: context.id }, 'oauth: insecureSkipVerify is set: the upstream\'s TLS certificate is not checked');
    }
    const oauth = new OAuth2Upstream({
      label: 'oauth',
      clientID: config.clientID,
      clientSecret: config.clientSecret,
      authorizationURL: config.authorizationURL,
      tokenURL: config.tokenURL,
      tokenEndpointAuth: 'auto',
      rootCAs: readRootCAs(config.rootCAs),
      insecureSkipVerify: config.insecureSkipVerify,
      timeout: config.upstreamTimeout,
      now: context.now,
      tracing: context.tracing,
    });
    const step = upstreamSteps(context, 'oauth');
    const api = new UpstreamAPI(oauth.fetch, config.upstreamTimeout);
    return new OAuth2Connector(new UserInfoProvider(config, api, step), oauth, step, checkRedirectURI(config.redirectURI, context));
  },
});
