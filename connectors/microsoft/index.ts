/**
 * The `microsoft` connector (Dex's): the Microsoft identity platform's v2.0 authorization code flow
 * for a tenant (oauth2-connector.ts), then the person from Graph /me and, in a single-directory
 * tenant, their groups from getMemberGroups (by display name or ID), restricted by `groups`. Refresh
 * renews the token when it has expired and reads the person and their groups again.
 */
import { readFileSync } from 'node:fs';
import type * as client from 'openid-client';
import { registerConnector, type Identity, type Scopes } from '../../src/connector.js';
import { applyGroupPolicy } from '../groups.js';
import { OAuth2Connector, type OAuth2Provider } from '../oauth2-connector.js';
import { OAuth2Upstream } from '../oauth2-upstream.js';
import { checkRedirectURI } from '../upstream-config.js';
import { upstreamSteps, type StepRunner } from '../upstream-failure.js';
import { microsoftConfigSchema, MULTI_TENANT, type MicrosoftConfig } from './config.js';
import { GraphAPI, type GraphUser } from './graph.js';

/** RFC 7523 client authentication with the assertion in `file`, read on every token request (it rotates). */
function clientAssertionAuth(clientID: string, file: string): client.ClientAuth {
  return (_as, _client, body) => {
    body.set('client_id', clientID);
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    body.set('client_assertion', readFileSync(file, 'utf8').trim());
  };
}

class MicrosoftProvider implements OAuth2Provider {
  readonly name = 'Microsoft';

  constructor(
    private readonly config: MicrosoftConfig,
    private readonly graph: GraphAPI,
    private readonly step: StepRunner,
  ) {}

  /** Groups are read for a restriction or the groups scope, and only where one directory is meant. */
  private groupsRequired(scopes: Scopes): boolean {
    return (this.config.groups.length > 0 || scopes.groups) && !MULTI_TENANT.has(this.config.tenant);
  }

  scopes(scopes: Scopes): string[] {
    const requested = this.config.scopes.length > 0 ? [...this.config.scopes] : ['user.read'];
    if (this.groupsRequired(scopes)) requested.push('directory.read.all');
    if (scopes.offlineAccess) requested.push('offline_access');
    return requested;
  }

  parameters(): Record<string, string> {
    return {
      ...(this.config.promptType && { prompt: this.config.promptType }),
      ...(this.config.domainHint && { domain_hint: this.config.domainHint }),
    };
  }

  async identity(scopes: Scopes, token: string): Promise<Identity> {
    const user = await this.step('user', () => this.graph.me(token));
    const principal = user.userPrincipalName ?? undefined;
    const email = principal && this.config.emailToLowercase ? principal.toLowerCase() : principal;
    const identity: Identity = {
      userId: user.id,
      username: user.displayName ?? '',
      ...(email && { email }),
      emailVerified: true,
      // Microsoft Graph's /me object, for claim expressions (docs/claims.md).
      claims: { ...user },
    };
    const preferredUsername = this.preferredUsername(user, email);
    if (preferredUsername) identity.preferredUsername = preferredUsername;
    if (!this.groupsRequired(scopes)) return identity;
    return { ...identity, groups: await this.step('groups', () => this.groups(token, identity.username || user.id)) };
  }

  /** Dex's preferredUsernameField: which Graph field becomes preferred_username (none when unset). */
  private preferredUsername(user: GraphUser, email: string | undefined): string | undefined {
    switch (this.config.preferredUsernameField) {
      case 'name':
        return user.displayName ?? undefined;
      case 'email':
        return email;
      case 'mailNickname':
        return user.mailNickname ?? undefined;
      case 'onPremisesSamAccountName':
        return user.onPremisesSamAccountName ?? undefined;
      default:
        return undefined;
    }
  }

  private async groups(token: string, who: string): Promise<string[]> {
    const ids = await this.graph.memberGroupIDs(token, this.config.onlySecurityGroups);
    const groups = this.config.groupNameFormat === 'id' ? ids : await this.graph.groupNames(token, ids, this.config.batchGroupLookups);
    return applyGroupPolicy(who, groups, { allowedGroups: this.config.groups, narrowToAllowed: this.config.useGroupsAsWhitelist });
  }
}

registerConnector<MicrosoftConfig>('microsoft', {
  kind: 'callback',
  configSchema: microsoftConfigSchema,
  async open(config, context) {
    if (config.clientAssertion) {
      try {
        readFileSync(config.clientAssertion, 'utf8');
      } catch (error) {
        throw new Error(`clientAssertion: cannot read ${config.clientAssertion} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: error });
      }
    }
    const endpoint = `${config.apiURL}/${config.tenant}/oauth2/v2.0`;
    const oauth = new OAuth2Upstream({
      label: 'microsoft',
      clientID: config.clientID,
      clientSecret: config.clientSecret ?? '',
      authorizationURL: `${endpoint}/authorize`,
      tokenURL: `${endpoint}/token`,
      tokenEndpointAuth: config.clientAssertion ? clientAssertionAuth(config.clientID, config.clientAssertion) : 'client_secret_post',
      timeout: config.upstreamTimeout,
      now: context.now,
      tracing: context.tracing,
    });
    const step = upstreamSteps(context, 'microsoft');
    const graph = new GraphAPI(config.graphURL, oauth.fetch, config.upstreamTimeout);
    return new OAuth2Connector(new MicrosoftProvider(config, graph, step), oauth, step, checkRedirectURI(config.redirectURI, context));
  },
});
