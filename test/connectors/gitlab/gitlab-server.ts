/**
 * A self-managed GitLab stand-in on 127.0.0.1 under a path prefix (/gitlab, as a relative-URL
 * install), shaped as GitLab documents its OAuth 2.0 provider and API (gitlab.com cannot be reached
 * from the tests):
 * - GET /oauth/authorize, POST /oauth/token: client_id/client_secret in the body; tokens expire after
 *   7200 s with a rotating refresh_token; with the openid scope the answer also carries an ID token
 *   (iss = the instance URL, as GitLab signs it).
 * - GET /api/v4/user {id, username, name, state, email} (scope read_user).
 * - GET /oauth/userinfo {sub, nickname, email, groups, https://gitlab.org/claims/groups/owner,
 *   .../maintainer, .../developer} (scope openid; 403 insufficient_scope otherwise).
 */
import { SignJWT, generateKeyPair } from 'jose';
import type { ServerResponse } from 'node:http';
import { mountAuthorizationServer, sendJSON, startProviderServer, type AuthorizationServer, type Grant, type ProviderRequest, type ProviderServer } from '../provider-server.js';

export interface GitLabAccount {
  id: number;
  username: string;
  name: string;
  email: string;
  groups: string[];
  owner?: string[];
  maintainer?: string[];
  developer?: string[];
}

export interface GitLabServer {
  /** The instance URL idgate is configured with (baseURL). */
  baseURL: string;
  server: ProviderServer;
  oauth: AuthorizationServer;
  accounts: Map<string, GitLabAccount>;
  clientID: string;
  clientSecret: string;
  close(): Promise<void>;
}

const PREFIX = '/gitlab';

export async function startGitLabServer(): Promise<GitLabServer> {
  const server = await startProviderServer();
  const baseURL = `${server.origin}${PREFIX}`;
  const clientID = 'gitlab-application-id';
  const clientSecret = 'gitlab-secret-for-tests';
  const { privateKey } = await generateKeyPair('RS256');
  const accounts = new Map<string, GitLabAccount>();
  const idToken = (grant: Grant) =>
    new SignJWT({ sub: String(accounts.get(grant.user)?.id ?? 0), nonce: grant.authorize.get('nonce') ?? undefined })
      .setProtectedHeader({ alg: 'RS256', kid: 'gitlab' })
      .setIssuer(baseURL)
      .setAudience(clientID)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey);
  const oauth = mountAuthorizationServer(server, {
    authorizePath: `${PREFIX}/oauth/authorize`,
    tokenPath: `${PREFIX}/oauth/token`,
    clientID,
    clientSecret,
    accessTokenTTL: 7200,
    issueRefreshTokens: () => true,
    tokenFields: async (grant) => ({ created_at: Math.floor(Date.now() / 1000), ...(grant.scopes.includes('openid') && { id_token: await idToken(grant) }) }),
  });

  function caller(request: ProviderRequest, res: ServerResponse, scope: string): GitLabAccount | undefined {
    const grant = oauth.grantFor(request);
    const account = grant && accounts.get(grant.user);
    if (!grant || !account) {
      sendJSON(res, 401, { message: '401 Unauthorized' });
      return undefined;
    }
    if (!grant.scopes.includes(scope)) {
      sendJSON(res, 403, { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope });
      return undefined;
    }
    return account;
  }

  server.route('GET', `${PREFIX}/api/v4/user`, (request, res) => {
    const account = caller(request, res, 'read_user');
    if (account) sendJSON(res, 200, { id: account.id, username: account.username, name: account.name, state: 'active', email: account.email, web_url: `${baseURL}/${account.username}` });
  });
  server.route('GET', `${PREFIX}/oauth/userinfo`, (request, res) => {
    const account = caller(request, res, 'openid');
    if (!account) return;
    sendJSON(res, 200, {
      sub: String(account.id), nickname: account.username, name: account.name, email: account.email, email_verified: true,
      groups: account.groups, groups_direct: account.groups,
      'https://gitlab.org/claims/groups/owner': account.owner ?? [],
      'https://gitlab.org/claims/groups/maintainer': account.maintainer ?? [],
      'https://gitlab.org/claims/groups/developer': account.developer ?? [],
    });
  });
  return { baseURL, server, oauth, accounts, clientID, clientSecret, close: () => server.close() };
}
