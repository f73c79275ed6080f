/**
 * The common part of the provider test servers (GitHub, GitLab, Google, Microsoft, a generic OAuth2
 * server): node:http(s) on 127.0.0.1 with a port from freePort, a route table, recorded requests, and
 * an OAuth 2.0 authorization server as RFC 6749 + RFC 7636 describe it — an authorization endpoint
 * that "logs in" `nextUser` and redirects back with a code (or the error the test asks for), a token
 * endpoint for the authorization_code and refresh_token grants with PKCE S256 and client
 * authentication, and bearer access tokens the REST routes resolve to a user. The real providers
 * cannot be reached from here; each provider's file shapes the answers as that provider documents them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import { freePort } from '../helpers/free-port.js';

export interface ProviderRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (request: ProviderRequest, res: ServerResponse) => void | Promise<void>;

export interface ProviderServer {
  /** http(s)://127.0.0.1:<port> */
  origin: string;
  port: number;
  requests: ProviderRequest[];
  route(method: string, path: string | RegExp, handler: Handler): void;
  close(): Promise<void>;
}

export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export async function startProviderServer(options: { tls?: { key: string; cert: string } } = {}): Promise<ProviderServer> {
  const routes: Array<{ method: string; path: string | RegExp; handler: Handler }> = [];
  const requests: ProviderRequest[] = [];
  const server: Server = options.tls ? createTLSServer(options.tls) : createServer();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: ProviderRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      const route = routes.find((r) => r.method === request.method && (typeof r.path === 'string' ? r.path === request.path : r.path.test(request.path)));
      if (!route) return sendJSON(res, 404, { message: 'Not Found' });
      Promise.resolve(route.handler(request, res)).catch((error: unknown) => sendJSON(res, 500, { message: String(error) }));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    route: (method, path, handler) => routes.push({ method, path, handler }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface Grant {
  user: string;
  scopes: string[];
  /** The authorization request's parameters, for tests that check what was sent (prompt, hd...). */
  authorize: URLSearchParams;
}

export interface AuthorizationServerOptions {
  authorizePath: string;
  tokenPath: string;
  clientID: string;
  clientSecret: string;
  /** Where the client secret may travel: HTTP Basic, the POST body, or either (the default). */
  clientAuth?: 'basic' | 'post' | 'either';
  /** Also accept this RFC 7523 client assertion (client_assertion_type jwt-bearer) instead of the secret. */
  clientAssertion?: string;
  /** Seconds an access token lives; undefined: forever, and no expires_in (GitHub OAuth apps). */
  accessTokenTTL?: number;
  issueRefreshTokens?: (grant: Grant) => boolean;
  /** GitHub's way: a refused code answers 200 with {"error": ...} instead of 400. */
  errorsWith200?: boolean;
  /** The access token to issue (a JWT carrying claims); a random opaque string by default. */
  accessToken?: (grant: Grant) => Promise<string> | string;
  /** More fields for a token response (an id_token); `grantType` says which grant asked. */
  tokenFields?: (grant: Grant, accessToken: string, grantType: string) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Grants of the provider's own at the same token endpoint, answered before client authentication. */
  otherGrants?: Record<string, (form: URLSearchParams, res: ServerResponse) => Promise<void> | void>;
}

export interface AuthorizationServer {
  /** Who the next visit to the authorization endpoint logs in. */
  nextUser: string;
  /** Makes the next visit answer with this error instead of a code. */
  nextError?: { error: string; error_description?: string };
  redirectURIs: Set<string>;
  /** Every authorization request seen, last one last. */
  authorizations: URLSearchParams[];
  /** The grant behind a bearer token, or undefined (unknown, expired or revoked). */
  grantFor(request: ProviderRequest): Grant | undefined;
  /** Ends every token of `user` (access and refresh), as an upstream admin revoking the app would. */
  revoke(user: string): void;
  /** Expires every access token now, so the next API call needs the refresh token. */
  expireAccessTokens(): void;
}

const random = () => randomBytes(16).toString('base64url');

export function mountAuthorizationServer(server: ProviderServer, options: AuthorizationServerOptions): AuthorizationServer {
  const codes = new Map<string, Grant & { redirectURI: string; challenge?: string }>();
  const access = new Map<string, Grant & { expiresAt?: number }>();
  const refresh = new Map<string, Grant>();
  const as: AuthorizationServer = {
    nextUser: '',
    redirectURIs: new Set(),
    authorizations: [],
    grantFor(request) {
      const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
      const grant = match ? access.get(match[1]!) : undefined;
      if (!grant || (grant.expiresAt !== undefined && grant.expiresAt <= Date.now())) return undefined;
      return grant;
    },
    revoke(user) {
      for (const map of [access, refresh] as Array<Map<string, Grant>>) for (const [token, grant] of map) if (grant.user === user) map.delete(token);
    },
    expireAccessTokens() {
      for (const grant of access.values()) grant.expiresAt = 0;
    },
  };

  server.route('GET', options.authorizePath, (request, res) => {
    const query = request.query;
    as.authorizations.push(query);
    const redirectURI = query.get('redirect_uri') ?? '';
    if (query.get('client_id') !== options.clientID || !as.redirectURIs.has(redirectURI)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown client or redirect_uri');
      return;
    }
    const back = new URL(redirectURI);
    if (query.get('state') !== null) back.searchParams.set('state', query.get('state')!);
    if (as.nextError) {
      back.searchParams.set('error', as.nextError.error);
      if (as.nextError.error_description) back.searchParams.set('error_description', as.nextError.error_description);
      as.nextError = undefined;
    } else {
      const code = random();
      const challenge = query.get('code_challenge_method') === 'S256' ? query.get('code_challenge') ?? undefined : undefined;
      codes.set(code, { user: as.nextUser, scopes: (query.get('scope') ?? '').split(/[ ,]+/).filter(Boolean), authorize: query, redirectURI, challenge });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.href }).end();
  });

  /** RFC 6749 §5.2: invalid_client is 401, with a Basic challenge when the client tried Basic. */
  const refuse = (res: ServerResponse, error: string, description: string, triedBasic = false) => {
    const status = error === 'invalid_client' ? 401 : options.errorsWith200 ? 200 : 400;
    sendJSON(res, status, { error, error_description: description }, triedBasic ? { 'www-authenticate': 'Basic realm="token"' } : {});
  };

  server.route('POST', options.tokenPath, async (request, res) => {
    const form = new URLSearchParams(request.body);
    const other = options.otherGrants?.[form.get('grant_type') ?? ''];
    if (other) return other(form, res);
    const basic = /^Basic (.+)$/i.exec(request.headers.authorization ?? '');
    const [basicID, basicSecret] = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) : [];
    const mode = options.clientAuth ?? 'either';
    const viaBasic = basicID === options.clientID && basicSecret === options.clientSecret && mode !== 'post';
    const viaPost = form.get('client_id') === options.clientID && form.get('client_secret') === options.clientSecret && mode !== 'basic';
    const viaAssertion = options.clientAssertion !== undefined && form.get('client_id') === options.clientID
      && form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
      && form.get('client_assertion') === options.clientAssertion;
    if (!viaBasic && !viaPost && !viaAssertion) return refuse(res, 'invalid_client', 'client authentication failed', basic !== null);

    let grant: Grant;
    if (form.get('grant_type') === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code) return refuse(res, options.errorsWith200 ? 'bad_verification_code' : 'invalid_grant', 'The code passed is incorrect or expired.');
      if (code.redirectURI !== form.get('redirect_uri')) return refuse(res, 'invalid_grant', 'redirect_uri does not match');
      const verifier = form.get('code_verifier') ?? '';
      if (code.challenge && createHash('sha256').update(verifier).digest('base64url') !== code.challenge) {
        return refuse(res, 'invalid_grant', 'PKCE verification failed');
      }
      grant = { user: code.user, scopes: code.scopes, authorize: code.authorize };
    } else if (form.get('grant_type') === 'refresh_token') {
      const found = refresh.get(form.get('refresh_token') ?? '');
      if (!found) return refuse(res, 'invalid_grant', 'the refresh token is invalid or revoked');
      refresh.delete(form.get('refresh_token')!);
      grant = found;
    } else {
      return refuse(res, 'unsupported_grant_type', `grant_type ${form.get('grant_type')} is not supported`);
    }

    const accessToken = (await options.accessToken?.(grant)) ?? random();
    const expiresAt = options.accessTokenTTL === undefined ? undefined : Date.now() + options.accessTokenTTL * 1000;
    access.set(accessToken, { ...grant, expiresAt });
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', scope: grant.scopes.join(' ') };
    if (options.accessTokenTTL !== undefined) body.expires_in = options.accessTokenTTL;
    if (options.issueRefreshTokens?.(grant)) {
      const refreshToken = random();
      refresh.set(refreshToken, grant);
      body.refresh_token = refreshToken;
    }
    Object.assign(body, await options.tokenFields?.(grant, accessToken, form.get('grant_type')!));
    sendJSON(res, 200, body, { 'cache-control': 'no-store' });
  });
  return as;
}
