/**
 * A GitHub Enterprise stand-in over TLS on 127.0.0.1 (github.com itself cannot be reached from the
 * tests), shaped as GitHub documents its OAuth web flow and REST API v3 (version 2022-11-28):
 * - GET /login/oauth/authorize (client_id, redirect_uri, scope, state, code_challenge) and
 *   POST /login/oauth/access_token (client_id/client_secret in the body; a refused code answers 200
 *   with {"error":"bad_verification_code"}); GitHub App tokens optionally expire (expires_in +
 *   refresh_token).
 * - GET /api/v3/user {id, login, name, email}, /api/v3/user/emails [{email, primary, verified,
 *   visibility}] (needs scope user:email), /api/v3/user/orgs [{login}], /api/v3/user/teams
 *   [{name, slug, organization: {login}}] (need read:org), paged with per_page/page and a Link header
 *   (rel="next", rel="last"); GET /api/v3/orgs/{org}/members/{username}: 204 member, 404 not.
 * - Requests without a User-Agent are refused (403), as GitHub does.
 */
import type { ServerResponse } from 'node:http';
import { mountAuthorizationServer, sendJSON, startProviderServer, type AuthorizationServer, type ProviderRequest, type ProviderServer } from '../provider-server.js';

export interface GitHubAccount {
  id: number;
  login: string;
  name: string | null;
  /** The public email (GitHub only lets a verified address be public). */
  email: string | null;
  emails: Array<{ email: string; primary: boolean; verified: boolean; visibility: string | null }>;
  orgs: string[];
  teams: Array<{ org: string; name: string; slug: string }>;
}

export interface GitHubServer {
  /** The hostName idgate is configured with: 127.0.0.1:<port>. */
  hostName: string;
  server: ProviderServer;
  oauth: AuthorizationServer;
  accounts: Map<string, GitHubAccount>;
  /** Largest page the API serves (GitHub: 100); small values make the tests page. */
  pageSize: number;
  clientID: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startGitHubServer(options: { tls: { key: string; cert: string }; expiringTokens?: boolean }): Promise<GitHubServer> {
  const server = await startProviderServer({ tls: options.tls });
  const clientID = 'Iv1.idgate-test';
  const clientSecret = 'github-secret-for-tests';
  const oauth = mountAuthorizationServer(server, {
    authorizePath: '/login/oauth/authorize',
    tokenPath: '/login/oauth/access_token',
    clientID,
    clientSecret,
    clientAuth: 'post',
    errorsWith200: true,
    ...(options.expiringTokens && { accessTokenTTL: 28_800, issueRefreshTokens: () => true }),
  });
  const accounts = new Map<string, GitHubAccount>();
  const github: GitHubServer = { hostName: `127.0.0.1:${server.port}`, server, oauth, accounts, pageSize: 100, clientID, clientSecret, close: () => server.close() };

  /** The caller's account, or an answer already sent (401 bad token, 403 no User-Agent or missing scope). */
  function caller(request: ProviderRequest, res: ServerResponse, scope?: string): GitHubAccount | undefined {
    if (!request.headers['user-agent']) {
      sendJSON(res, 403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.' });
      return undefined;
    }
    const grant = oauth.grantFor(request);
    const account = grant && accounts.get(grant.user);
    if (!grant || !account) {
      sendJSON(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return undefined;
    }
    if (scope && !grant.scopes.includes(scope)) {
      sendJSON(res, scope === 'user:email' ? 404 : 403, { message: scope === 'user:email' ? 'Not Found' : 'Resource not accessible by integration' });
      return undefined;
    }
    return account;
  }

  /** One page of `items` with GitHub's Link header. */
  function page(request: ProviderRequest, res: ServerResponse, items: unknown[]): void {
    const size = Math.min(Number(request.query.get('per_page') ?? 30), github.pageSize);
    const number = Number(request.query.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(items.length / size));
    const link = (n: number, rel: string) => {
      const url = new URL(`${server.origin}${request.path}`);
      url.searchParams.set('per_page', String(size));
      url.searchParams.set('page', String(n));
      return `<${url.href}>; rel="${rel}"`;
    };
    const links = number < last ? [link(number + 1, 'next'), link(last, 'last')] : [];
    sendJSON(res, 200, items.slice((number - 1) * size, number * size), links.length ? { link: links.join(', ') } : {});
  }

  server.route('GET', '/api/v3/user', (request, res) => {
    const account = caller(request, res);
    if (account) sendJSON(res, 200, { login: account.login, id: account.id, node_id: 'U_test', type: 'User', name: account.name, email: account.email });
  });
  server.route('GET', '/api/v3/user/emails', (request, res) => {
    const account = caller(request, res, 'user:email');
    if (account) page(request, res, account.emails);
  });
  server.route('GET', '/api/v3/user/orgs', (request, res) => {
    const account = caller(request, res, 'read:org');
    if (account) page(request, res, account.orgs.map((login, index) => ({ login, id: 1000 + index, url: `${server.origin}/api/v3/orgs/${login}` })));
  });
  server.route('GET', '/api/v3/user/teams', (request, res) => {
    const account = caller(request, res, 'read:org');
    if (account) page(request, res, account.teams.map((team) => ({ name: team.name, slug: team.slug, organization: { login: team.org } })));
  });
  server.route('GET', /^\/api\/v3\/orgs\/[^/]+\/members\/[^/]+$/, (request, res) => {
    const account = caller(request, res, 'read:org');
    if (!account) return;
    const [, , , , org, , login] = request.path.split('/').map(decodeURIComponent);
    const member = accounts.get(login!)?.orgs.some((name) => name.toLowerCase() === org!.toLowerCase());
    if (member) res.writeHead(204).end();
    else sendJSON(res, 404, { message: 'Not Found' });
  });
  return github;
}
