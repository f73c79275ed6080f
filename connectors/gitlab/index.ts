/**
 * The `gitlab` connector (Dex's): GitLab's OAuth authorization code flow (oauth2-connector.ts), then
 * the person from /api/v4/user and, when groups are needed, their groups from the `groups` claim of
 * /oauth/userinfo; `groups` restricts who may sign in. Refresh renews the token with the refresh
 * token when it has expired and reads the person and their groups again.
 */
import { registerConnector, type Identity, type Scopes } from '../../src/connector.js';
import { applyGroupPolicy } from '../groups.js';
import { OAuth2Connector, type OAuth2Provider } from '../oauth2-connector.js';
import { OAuth2Upstream } from '../oauth2-upstream.js';
import { checkRedirectURI } from '../upstream-config.js';
import { upstreamSteps, type StepRunner } from '../upstream-failure.js';
import { GitLabAPI, gitlabGroups } from './api.js';
import { gitlabConfigSchema, type GitLabConfig } from './config.js';

class GitLabProvider implements OAuth2Provider {
  readonly name = 'GitLab';

  constructor(
    private readonly config: GitLabConfig,
    private readonly api: GitLabAPI,
    private readonly step: StepRunner,
  ) {}

  /** Groups are read for a group restriction or the groups scope (Dex's groupsRequired). */
  private groupsRequired(scopes: Scopes): boolean {
    return this.config.groups.length > 0 || scopes.groups;
  }

  /** read_user reads /api/v4/user; openid reads /oauth/userinfo, where the groups are. */
  scopes(scopes: Scopes): string[] {
    return this.groupsRequired(scopes) ? ['read_user', 'openid'] : ['read_user'];
  }

  async identity(scopes: Scopes, token: string): Promise<Identity> {
    const user = await this.step('user', () => this.api.user(token));
    const identity: Identity = {
      userId: this.config.useLoginAsID ? user.username : String(user.id),
      username: user.name || user.email || user.username,
      preferredUsername: user.username,
      ...(user.email && { email: user.email }),
      emailVerified: true,
      // GitLab's /api/v4/user object, for claim expressions (docs/claims.md).
      claims: { ...user },
    };
    if (!this.groupsRequired(scopes)) return identity;
    const info = await this.step('userinfo', () => this.api.userInfo(token));
    const groups = applyGroupPolicy(user.username, gitlabGroups(info, this.config.getGroupsPermission), {
      allowedGroups: this.config.groups,
      narrowToAllowed: true,
    });
    return { ...identity, groups };
  }
}

registerConnector<GitLabConfig>('gitlab', {
  kind: 'callback',
  configSchema: gitlabConfigSchema,
  async open(config, context) {
    const oauth = new OAuth2Upstream({
      label: 'gitlab',
      clientID: config.clientID,
      clientSecret: config.clientSecret,
      authorizationURL: `${config.baseURL}/oauth/authorize`,
      tokenURL: `${config.baseURL}/oauth/token`,
      tokenEndpointAuth: 'client_secret_post',
      rootCAs: config.rootCAData ? [config.rootCAData] : [],
      timeout: config.upstreamTimeout,
      now: context.now,
      tracing: context.tracing,
    });
    const step = upstreamSteps(context, 'gitlab');
    const api = new GitLabAPI(config.baseURL, oauth.fetch, config.upstreamTimeout);
    return new OAuth2Connector(new GitLabProvider(config, api, step), oauth, step, checkRedirectURI(config.redirectURI, context));
  },
});
