/**
 * The `github` connector (Dex's, option for option): GitHub's OAuth web flow (oauth2-connector.ts),
 * then the person from the REST API: the numeric ID (or the login), the name, a verified email, and
 * orgs/teams as groups, restricted by `orgs`/`org`. Refresh reads the person and their groups again
 * with the stored token, renewed first when GitHub issued an expiring one.
 */
import { ConnectorError, registerConnector, type Identity, type Scopes } from '../../src/connector.js';
import { OAuth2Connector, type OAuth2Provider } from '../oauth2-connector.js';
import { OAuth2Upstream } from '../oauth2-upstream.js';
import { readRootCAs } from '../oidc/tls-fetch.js';
import { checkRedirectURI } from '../upstream-config.js';
import { upstreamSteps, type StepRunner } from '../upstream-failure.js';
import { GitHubAPI, type GitHubUser } from './api.js';
import { githubConfigSchema, type GitHubConfig } from './config.js';
import { githubGroups, groupsRequired } from './groups.js';

/** `preferredEmailDomain` as Dex matches it: the same labels, `*` standing for any one label. */
export function matchesEmailDomain(domain: string, pattern: string): boolean {
  if (domain === pattern) return true;
  const labels = domain.split('.');
  const wanted = pattern.split('.');
  return labels.length === wanted.length && wanted.every((label, index) => label === '*' || label === labels[index]);
}

class GitHubProvider implements OAuth2Provider {
  readonly name = 'GitHub';

  constructor(
    private readonly config: GitHubConfig,
    private readonly api: GitHubAPI,
    private readonly step: StepRunner,
  ) {}

  /** user:email reads /user and /user/emails; read:org reads orgs, teams and org membership. */
  scopes(scopes: Scopes): string[] {
    return groupsRequired(this.config, scopes.groups) ? ['user:email', 'read:org'] : ['user:email'];
  }

  async identity(scopes: Scopes, token: string): Promise<Identity> {
    const user = await this.step('user', () => this.api.user(token));
    const identity: Identity = {
      userId: this.config.useLoginAsID ? user.login : String(user.id),
      username: user.name || user.login,
      preferredUsername: user.login,
      email: await this.email(token, user),
      emailVerified: true,
      // GitHub's /user object, for claim expressions (docs/claims.md).
      claims: { ...user },
    };
    if (!groupsRequired(this.config, scopes.groups)) return identity;
    const groups = await this.step('groups', () => githubGroups(this.api, this.config, token, user.login, scopes.groups));
    return { ...identity, groups };
  }

  /**
   * The public email when there is one and no preferred domain; otherwise a verified address from
   * /user/emails: one in `preferredEmailDomain`, else the primary. GitHub Enterprise cannot verify
   * addresses, so there every address counts as verified (as in Dex).
   */
  private async email(token: string, user: GitHubUser): Promise<string> {
    const preferredDomain = this.config.preferredEmailDomain;
    if (user.email && !preferredDomain) return user.email;
    const emails = await this.step('emails', () => this.api.emails(token));
    const verified = emails.filter((entry) => entry.verified || this.config.hostName !== undefined);
    const inDomain = (address: string) => address.includes('@') && matchesEmailDomain(address.slice(address.lastIndexOf('@') + 1), preferredDomain!);
    const preferred = preferredDomain ? verified.find((entry) => inDomain(entry.email)) : undefined;
    const chosen = preferred ?? verified.find((entry) => entry.primary);
    if (!chosen) {
      const domain = preferredDomain ? ` or verified address in ${preferredDomain}` : '';
      throw new ConnectorError('account_not_allowed', `GitHub user "${user.login}" has no verified primary email address${domain}`);
    }
    return chosen.email;
  }
}

registerConnector<GitHubConfig>('github', {
  kind: 'callback',
  configSchema: githubConfigSchema,
  async open(config, context) {
    if (config.org) context.logger.warn({ connector: context.id }, "github: the legacy 'org' option is in use; switch to 'orgs'");
    const web = config.hostName ? `https://${config.hostName}` : 'https://github.com';
    const oauth = new OAuth2Upstream({
      label: 'github',
      clientID: config.clientID,
      clientSecret: config.clientSecret,
      authorizationURL: `${web}/login/oauth/authorize`,
      tokenURL: `${web}/login/oauth/access_token`,
      tokenEndpointAuth: 'client_secret_post',
      rootCAs: config.rootCA ? readRootCAs([config.rootCA]) : [],
      timeout: config.upstreamTimeout,
      now: context.now,
      tracing: context.tracing,
    });
    const api = new GitHubAPI(config.hostName ? `${web}/api/v3` : 'https://api.github.com', oauth.fetch, config.upstreamTimeout);
    const step = upstreamSteps(context, 'github');
    return new OAuth2Connector(new GitHubProvider(config, api, step), oauth, step, checkRedirectURI(config.redirectURI, context));
  },
});
