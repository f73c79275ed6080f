/**
 * The login and refresh every plain OAuth 2.0 connector (github, gitlab, microsoft, oauth) shares:
 * loginURL sends the browser upstream with the provider's scopes, PKCE and the auth request as
 * `state`; handleCallback redeems the code and has the provider read the person; refresh renews the
 * upstream token when it has expired and reads the person again, who must be the same user. The
 * upstream tokens are kept (connectorData, server-side) only when the client asked for offline
 * access, as Dex does. A provider only says what differs: scopes, extra parameters, the identity.
 */
import {
  ConnectorError,
  type CallbackConnector,
  type Identity,
  type RefreshConnector,
  type Scopes,
} from '../src/connector.js';
import { decodeConnectorData, encodeConnectorData } from './connector-data.js';
import type { LoginState, OAuth2Upstream, UpstreamTokens } from './oauth2-upstream.js';
import type { StepRunner } from './upstream-failure.js';

export interface OAuth2Provider {
  /** Names the upstream in refusals ("GitHub"). */
  readonly name: string;
  /** The upstream scopes for a login with these downstream scopes. */
  scopes(scopes: Scopes): string[];
  /** More authorization request parameters (prompt, domain_hint...). */
  parameters?(scopes: Scopes): Record<string, string>;
  /** Reads the person with their access token; throws ConnectorError to refuse them. */
  identity(scopes: Scopes, accessToken: string): Promise<Identity>;
}

export class OAuth2Connector implements CallbackConnector, RefreshConnector {
  readonly kind = 'callback';

  constructor(
    private readonly provider: OAuth2Provider,
    private readonly oauth: OAuth2Upstream,
    private readonly step: StepRunner,
    /** The configured redirectURI (checkRedirectURI); absent: the connector's own callback. */
    private readonly redirectURI: string | undefined,
  ) {}

  async loginURL(scopes: Scopes, callbackURL: string, state: string): Promise<{ url: string; connectorData: Uint8Array }> {
    const { url, login } = await this.oauth.start(this.redirectURI ?? callbackURL, state, this.provider.scopes(scopes), this.provider.parameters?.(scopes));
    return { url, connectorData: encodeConnectorData(login) };
  }

  async handleCallback(
    scopes: Scopes,
    connectorData: Uint8Array | undefined,
    request: { url: URL; body?: Record<string, string> },
  ): Promise<Identity> {
    const login = decodeConnectorData<LoginState>(connectorData, 'login state');
    const tokens = await this.step('login', () => this.oauth.redeem(login, request));
    const identity = await this.provider.identity(scopes, tokens.accessToken);
    return scopes.offlineAccess ? { ...identity, connectorData: encodeConnectorData(tokens) } : identity;
  }

  async refresh(scopes: Scopes, identity: Identity): Promise<Identity> {
    const stored = decodeConnectorData<UpstreamTokens>(identity.connectorData, 'upstream session');
    const tokens = await this.step('refresh', () => this.oauth.current(stored));
    const fresh = await this.provider.identity(scopes, tokens.accessToken);
    if (fresh.userId !== identity.userId) {
      throw new ConnectorError('invalid_response', `${this.provider.name} names a different user for this session`);
    }
    return { ...fresh, connectorData: encodeConnectorData(tokens) };
  }
}
