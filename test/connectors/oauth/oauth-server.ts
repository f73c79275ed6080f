/**
 * A plain OAuth 2.0 server on 127.0.0.1 for the generic oauth connector, as RFC 6749 and RFC 7636
 * describe one, with the userinfo URL Dex's connector expects: GET /oauth/authorize, POST
 * /oauth/token (client authentication by HTTP Basic or the body, as the test picks; access tokens of
 * an hour and refresh tokens), and GET /api/me answering the person as a JSON object with Dex's default
 * keys (id as a number, user_name, preferred_username, email, email_verified, groups as strings or
 * {name} objects). Access tokens may be JWTs that carry more groups, as some servers issue them.
 */
import { SignJWT, generateKeyPair } from 'jose';
import { mountAuthorizationServer, sendJSON, startProviderServer, type AuthorizationServer, type ProviderServer } from '../provider-server.js';

export interface OAuthServer {
  origin: string;
  server: ProviderServer;
  oauth: AuthorizationServer;
  /** userinfo answers by user, as the test wants them. */
  users: Map<string, Record<string, unknown>>;
  clientID: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startOAuthServer(options: {
  clientAuth?: 'basic' | 'post';
  tls?: { key: string; cert: string };
  /** Issue JWT access tokens with these groups in `groups`, per user. */
  tokenGroups?: Map<string, string[]>;
} = {}): Promise<OAuthServer> {
  const server = await startProviderServer({ tls: options.tls });
  const clientID = 'generic-client';
  const clientSecret = 'generic secret/with:odd chars';
  const { privateKey } = await generateKeyPair('ES256');
  const tokenGroups = options.tokenGroups;
  const oauth = mountAuthorizationServer(server, {
    authorizePath: '/oauth/authorize',
    tokenPath: '/oauth/token',
    clientID,
    clientSecret,
    clientAuth: options.clientAuth ?? 'basic',
    accessTokenTTL: 3600,
    issueRefreshTokens: () => true,
    ...(tokenGroups && {
      accessToken: (grant) => new SignJWT({ groups: tokenGroups.get(grant.user) ?? [], jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject(grant.user)
        .setExpirationTime('1h')
        .sign(privateKey),
    }),
  });
  const users = new Map<string, Record<string, unknown>>();
  server.route('GET', '/api/me', (request, res) => {
    const grant = oauth.grantFor(request);
    const user = grant && users.get(grant.user);
    if (!user) return sendJSON(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    sendJSON(res, 200, user);
  });
  return { origin: server.origin, server, oauth, users, clientID, clientSecret, close: () => server.close() };
}
