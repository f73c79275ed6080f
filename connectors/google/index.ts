/**
 * The `google` connector (Dex's): Google's OpenID Connect (discovered from accounts.google.com, the
 * ID token's signature checked against Google's keys, PKCE, nonce, the auth request as `state`),
 * `hostedDomains` checked against the ID token's `hd`, and, with a service account, the person's
 * groups from the Admin SDK directory, restricted by `groups`. Refresh redeems Google's refresh token
 * (asked for with access_type=offline) and reads the groups again.
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
} from '../../src/connector.js';
import { decodeConnectorData, encodeConnectorData } from '../connector-data.js';
import { applyGroupPolicy } from '../groups.js';
import { responseURL, upstreamFetch } from '../oauth2-upstream.js';
import { Upstream } from '../oidc/upstream.js';
import { checkRedirectURI } from '../upstream-config.js';
import { upstreamSteps, type StepRunner } from '../upstream-failure.js';
import { GOOGLE_DIRECTORY, GOOGLE_ISSUER, adminEmails, googleConfigSchema, type GoogleConfig } from './config.js';
import { Directory, readServiceAccount } from './directory.js';

interface LoginState {
  verifier: string;
  nonce: string;
  state: string;
  redirectURI: string;
}

/** Kept with the identity (server-side only) for refresh; `hd` for a refresh answer without an ID token. */
interface SessionState {
  refreshToken: string;
  sub: string;
  hd?: string;
}

type Claims = Record<string, unknown>;

export class GoogleConnector implements CallbackConnector, RefreshConnector {
  readonly kind = 'callback';
  private readonly upstream: Upstream;
  private readonly step: StepRunner;
  private readonly scopes: string[];

  constructor(
    private readonly config: GoogleConfig,
    context: ConnectorContext,
    private readonly directory?: Directory,
  ) {
    this.upstream = new Upstream(
      {
        issuer: config.issuer,
        clientID: config.clientID,
        clientSecret: config.clientSecret,
        basicAuthUnsupported: false,
        rootCAs: [],
        upstreamTimeout: config.upstreamTimeout,
        providerDiscoveryOverrides: {},
      },
      context.tracing,
      'google',
    );
    this.step = upstreamSteps(context, 'google');
    this.scopes = ['openid', ...config.scopes.filter((scope) => scope !== 'openid')];
  }

  async loginURL(scopes: Scopes, callbackURL: string, state: string): Promise<{ url: string; connectorData: Uint8Array }> {
    const redirectURI = this.config.redirectURI ?? callbackURL;
    const configuration = await this.step('discovery', () => this.upstream.configuration());
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const parameters: Record<string, string> = {
      redirect_uri: redirectURI,
      scope: this.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    // Google's account chooser hint: the one domain, or "*" for "any Workspace account" (as Dex).
    const domains = this.config.hostedDomains;
    if (domains.length > 0) parameters.hd = domains.length === 1 ? domains[0]! : '*';
    if (scopes.offlineAccess) {
      parameters.access_type = 'offline';
      if (this.config.promptType) parameters.prompt = this.config.promptType;
    }
    const url = client.buildAuthorizationUrl(configuration, parameters);
    const login: LoginState = { verifier, nonce, state, redirectURI };
    return { url: url.href, connectorData: encodeConnectorData(login) };
  }

  async handleCallback(
    scopes: Scopes,
    connectorData: Uint8Array | undefined,
    request: { url: URL; body?: Record<string, string> },
  ): Promise<Identity> {
    const login = decodeConnectorData<LoginState>(connectorData, 'login state');
    const configuration = await this.step('discovery', () => this.upstream.configuration());
    const tokens = await this.step('login', () =>
      client.authorizationCodeGrant(configuration, responseURL(login.redirectURI, request), {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      }),
    );
    const claims = tokens.claims() as Claims | undefined;
    if (!claims) throw new ConnectorError('invalid_response', 'Google sent no ID token');
    // The ID token's claims, for claim expressions (docs/claims.md).
    const identity = { ...(await this.identity(scopes, claims, undefined)), claims };
    if (!tokens.refresh_token) return identity;
    const session: SessionState = { refreshToken: tokens.refresh_token, sub: String(claims.sub), ...(typeof claims.hd === 'string' && { hd: claims.hd }) };
    return { ...identity, connectorData: encodeConnectorData(session) };
  }

  async refresh(scopes: Scopes, identity: Identity): Promise<Identity> {
    const session = decodeConnectorData<SessionState>(identity.connectorData, 'upstream session');
    const configuration = await this.step('discovery', () => this.upstream.configuration());
    const tokens = await this.step('refresh', () => client.refreshTokenGrant(configuration, session.refreshToken));
    const claims = tokens.claims() as Claims | undefined;
    if (claims && claims.sub !== session.sub) {
      throw new ConnectorError('invalid_response', 'the refreshed Google ID token names a different user');
    }
    // Google may answer a refresh without an ID token: then the login's claims stand.
    const known = { sub: session.sub, hd: session.hd, name: identity.username, email: identity.email, email_verified: identity.emailVerified };
    const fresh = await this.identity(scopes, claims ?? known, identity);
    const hd = typeof claims?.hd === 'string' ? claims.hd : session.hd;
    const next: SessionState = { refreshToken: tokens.refresh_token ?? session.refreshToken, sub: session.sub, ...(hd && { hd }) };
    return { ...fresh, ...(claims && { claims }), connectorData: encodeConnectorData(next) };
  }

  /** The identity from verified ID token claims; `previous` (on refresh) fills a name Google left out. */
  private async identity(scopes: Scopes, claims: Claims, previous: Identity | undefined): Promise<Identity> {
    const domains = this.config.hostedDomains;
    if (domains.length > 0 && (typeof claims.hd !== 'string' || !domains.includes(claims.hd))) {
      const domain = typeof claims.hd === 'string' ? `"${claims.hd}"` : 'none (a personal Google account)';
      throw new ConnectorError('account_not_allowed', `the Google account's hosted domain is ${domain}, not one allowed here (${domains.join(', ')})`);
    }
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const name = typeof claims.name === 'string' && claims.name !== '' ? claims.name : undefined;
    const identity: Identity = {
      userId: String(claims.sub),
      username: name ?? previous?.username ?? email ?? String(claims.sub),
      ...(email && { email }),
      emailVerified: claims.email_verified === true,
    };
    const wantsGroups = scopes.groups || this.config.groups.length > 0;
    if (!this.directory || !wantsGroups) return identity;
    if (!email) throw new ConnectorError('invalid_response', 'Google sent no email address, which the directory needs to look up groups');
    const directory = this.directory;
    const groups = await this.step('directory groups', () => directory.groupsOf(email, this.config.fetchTransitiveGroupMembership));
    return {
      ...identity,
      groups: applyGroupPolicy(identity.username, groups, { allowedGroups: this.config.groups, narrowToAllowed: true }),
    };
  }
}

registerConnector<GoogleConfig>('google', {
  kind: 'callback',
  configSchema: googleConfigSchema,
  async open(config, context) {
    checkRedirectURI(config.redirectURI, context);
    if (config.issuer !== GOOGLE_ISSUER || config.directoryURL !== GOOGLE_DIRECTORY) {
      context.logger.warn({ connector: context.id, issuer: config.issuer, directoryURL: config.directoryURL }, 'google: not talking to Google (issuer/directoryURL are for tests)');
    }
    let directory: Directory | undefined;
    if (config.serviceAccountFilePath) {
      const account = await readServiceAccount(config.serviceAccountFilePath);
      const fetch = upstreamFetch({ label: 'google', tracing: context.tracing });
      directory = new Directory(account, adminEmails(config), config.directoryURL, fetch, config.upstreamTimeout, context.now);
    }
    return new GoogleConnector(config, context, directory);
  },
});
