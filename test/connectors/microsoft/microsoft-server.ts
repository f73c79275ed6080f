/**
 * A Microsoft identity platform + Graph stand-in on 127.0.0.1 (login.microsoftonline.com and
 * graph.microsoft.com cannot be reached from the tests; apiURL and graphURL point the connector here),
 * shaped as Microsoft documents them:
 * - GET /{tenant}/oauth2/v2.0/authorize (client_id, redirect_uri, scope, state, prompt, domain_hint,
 *   code_challenge) and POST /{tenant}/oauth2/v2.0/token (client_secret, or client_assertion with
 *   client_assertion_type jwt-bearer; access tokens of 3599 s; a refresh_token only with the
 *   offline_access scope). Only the tenant the server was started for answers.
 * - Graph v1.0: GET /v1.0/me ($select id, displayName, userPrincipalName, mailNickname,
 *   onPremisesSamAccountName); POST /v1.0/me/getMemberGroups {securityEnabledOnly} -> {value: [ids]};
 *   POST /v1.0/directoryObjects/getByIds {ids, types} -> {value: [{@odata.type, id, displayName}]};
 *   lists paged with @odata.nextLink; errors as {error: {code, message}}.
 */
import type { ServerResponse } from 'node:http';
import { mountAuthorizationServer, sendJSON, startProviderServer, type AuthorizationServer, type ProviderRequest, type ProviderServer } from '../provider-server.js';

export interface DirectoryGroup {
  id: string;
  displayName: string;
  securityEnabled: boolean;
}

export interface EntraAccount {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mailNickname: string;
  onPremisesSamAccountName: string | null;
  groups: DirectoryGroup[];
}

export interface MicrosoftServer {
  url: string;
  tenant: string;
  server: ProviderServer;
  oauth: AuthorizationServer;
  accounts: Map<string, EntraAccount>;
  /** Largest Graph page (Graph picks its own; small values make the tests page). */
  pageSize: number;
  clientID: string;
  clientSecret: string;
  clientAssertion: string;
  close(): Promise<void>;
}

export async function startMicrosoftServer(tenant: string): Promise<MicrosoftServer> {
  const server = await startProviderServer();
  const clientID = '00000000-0000-0000-0000-00000000c11e';
  const clientSecret = 'entra-secret-for-tests';
  const clientAssertion = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl';
  const oauth = mountAuthorizationServer(server, {
    authorizePath: `/${tenant}/oauth2/v2.0/authorize`,
    tokenPath: `/${tenant}/oauth2/v2.0/token`,
    clientID,
    clientSecret,
    clientAuth: 'post',
    clientAssertion,
    accessTokenTTL: 3599,
    issueRefreshTokens: (grant) => grant.scopes.includes('offline_access'),
  });
  const accounts = new Map<string, EntraAccount>();
  const microsoft: MicrosoftServer = {
    url: server.origin, tenant, server, oauth, accounts, pageSize: 100, clientID, clientSecret, clientAssertion, close: () => server.close(),
  };

  const graphError = (res: ServerResponse, status: number, code: string, message: string) => sendJSON(res, status, { error: { code, message } });
  function caller(request: ProviderRequest, res: ServerResponse): EntraAccount | undefined {
    const grant = oauth.grantFor(request);
    const account = grant && accounts.get(grant.user);
    if (!account) graphError(res, 401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    return account;
  }
  /** One page of `items`; the next page is the same POST at ?$skiptoken=<offset>. */
  function page(request: ProviderRequest, res: ServerResponse, items: unknown[]): void {
    const offset = Number(request.query.get('$skiptoken') ?? 0);
    const body: Record<string, unknown> = { '@odata.context': `${server.origin}/v1.0/$metadata#Collection`, value: items.slice(offset, offset + microsoft.pageSize) };
    if (offset + microsoft.pageSize < items.length) body['@odata.nextLink'] = `${server.origin}${request.path}?$skiptoken=${offset + microsoft.pageSize}`;
    sendJSON(res, 200, body);
  }

  server.route('GET', '/v1.0/me', (request, res) => {
    const account = caller(request, res);
    if (!account) return;
    const selected = (request.query.get('$select') ?? '').split(',');
    const { groups: _groups, ...user } = account;
    sendJSON(res, 200, Object.fromEntries(Object.entries(user).filter(([key]) => selected.includes(key))));
  });
  server.route('POST', '/v1.0/me/getMemberGroups', (request, res) => {
    const account = caller(request, res);
    if (!account) return;
    const { securityEnabledOnly } = JSON.parse(request.body) as { securityEnabledOnly?: boolean };
    if (typeof securityEnabledOnly !== 'boolean') return graphError(res, 400, 'Request_BadRequest', 'securityEnabledOnly is required');
    page(request, res, account.groups.filter((group) => !securityEnabledOnly || group.securityEnabled).map((group) => group.id));
  });
  server.route('POST', '/v1.0/directoryObjects/getByIds', (request, res) => {
    const account = caller(request, res);
    if (!account) return;
    const { ids, types } = JSON.parse(request.body) as { ids: string[]; types: string[] };
    if (ids.length > 1000) return graphError(res, 400, 'Request_BadRequest', 'Too many ids: at most 1000 are allowed');
    const known = [...accounts.values()].flatMap((entry) => entry.groups);
    const found = ids.flatMap((id) => known.filter((group) => group.id === id).slice(0, 1));
    page(request, res, types.includes('group') ? found.map((group) => ({ '@odata.type': '#microsoft.graph.group', id: group.id, displayName: group.displayName })) : []);
  });
  return microsoft;
}
