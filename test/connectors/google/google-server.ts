/**
 * A Google stand-in on 127.0.0.1 (accounts.google.com and admin.googleapis.com cannot be reached
 * from the tests; the connector's idgate-only `issuer` and `directoryURL` point it here), shaped as
 * Google documents them:
 * - OpenID Connect: /.well-known/openid-configuration, GET /o/oauth2/v2/auth (client_id, scope, state,
 *   nonce, code_challenge, hd, access_type, prompt), POST /token (a refresh_token only with
 *   access_type=offline; an RS256 ID token with iss, azp, aud, sub, hd, email, email_verified, name,
 *   nonce; no nonce on refresh), JWKS at /oauth2/v3/certs.
 * - Service accounts: POST /token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an
 *   RS256 assertion (iss = client_email, sub = the admin, aud = token_uri, scope), checked against
 *   the service account's public key.
 * - Admin SDK Directory API v1: GET /admin/directory/v1/groups?userKey=&pageToken= ->
 *   {kind: "admin#directory#groups", groups: [{id, email, name}], nextPageToken}, for a bearer token
 *   with the admin.directory.group.readonly scope; a member may be a person or a group.
 */
import { exportJWK, exportPKCS8, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { randomBytes } from 'node:crypto';
import { mountAuthorizationServer, sendJSON, startProviderServer, type AuthorizationServer, type ProviderServer } from '../provider-server.js';

export interface GoogleAccount {
  sub: string;
  email: string;
  name?: string;
  hd?: string;
  emailVerified?: boolean;
}

export interface GoogleServer {
  issuer: string;
  server: ProviderServer;
  oauth: AuthorizationServer;
  accounts: Map<string, GoogleAccount>;
  /** The directory: member email (person or group) -> the groups they are a direct member of. */
  memberships: Map<string, string[]>;
  /** Admins that delegated the directory scope to the service account. */
  delegatedAdmins: Set<string>;
  /** Largest directory page (Google's maxResults is 200). */
  pageSize: number;
  /** Sign ID tokens with a key the JWKS does not publish (a forgery the connector must refuse). */
  forgeIdTokens: boolean;
  /** Answer refresh grants with an ID token (Google usually does; it need not). */
  idTokenOnRefresh: boolean;
  clientID: string;
  clientSecret: string;
  /** A service account key file's JSON for this server's token_uri. */
  serviceAccountKey(): Promise<string>;
  close(): Promise<void>;
}

const DIRECTORY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.group.readonly';

export async function startGoogleServer(): Promise<GoogleServer> {
  const server = await startProviderServer();
  const issuer = server.origin;
  const clientID = '1234567890-idgate.apps.googleusercontent.com';
  const clientSecret = 'GOCSPX-test-secret';
  const signing = await generateKeyPair('RS256', { extractable: true });
  const serviceAccount = await generateKeyPair('RS256', { extractable: true });
  const unpublished = await generateKeyPair('RS256');
  const accounts = new Map<string, GoogleAccount>();
  const directoryTokens = new Set<string>();

  const idToken = (user: string, nonce: string | undefined) => {
    const account = accounts.get(user)!;
    return new SignJWT({
      azp: clientID, email: account.email, email_verified: account.emailVerified ?? true,
      ...(account.hd && { hd: account.hd }), ...(account.name && { name: account.name }), ...(nonce && { nonce }),
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'google-test', typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(clientID)
      .setSubject(account.sub)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(google.forgeIdTokens ? unpublished.privateKey : signing.privateKey);
  };

  const oauth = mountAuthorizationServer(server, {
    authorizePath: '/o/oauth2/v2/auth',
    tokenPath: '/token',
    clientID,
    clientSecret,
    accessTokenTTL: 3599,
    issueRefreshTokens: (grant) => grant.authorize.get('access_type') === 'offline',
    tokenFields: async (grant, _token, grantType) => {
      if (grantType === 'refresh_token' && !google.idTokenOnRefresh) return {};
      return { id_token: await idToken(grant.user, grantType === 'authorization_code' ? grant.authorize.get('nonce') ?? undefined : undefined) };
    },
    otherGrants: {
      'urn:ietf:params:oauth:grant-type:jwt-bearer': async (form, res) => {
        try {
          const { payload } = await jwtVerify(form.get('assertion') ?? '', serviceAccount.publicKey as CryptoKey, {
            issuer: 'idgate-groups@idgate-test.iam.gserviceaccount.com', audience: `${issuer}/token`, algorithms: ['RS256'],
          });
          if (String(payload.scope).split(' ').indexOf(DIRECTORY_SCOPE) < 0) throw new Error('scope');
          if (!google.delegatedAdmins.has(String(payload.sub))) {
            return sendJSON(res, 401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.' });
          }
        } catch {
          return sendJSON(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        }
        const token = `ya29.${randomBytes(12).toString('base64url')}`;
        directoryTokens.add(token);
        sendJSON(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
      },
    },
  });

  const google: GoogleServer = {
    issuer, server, oauth, accounts, memberships: new Map(), delegatedAdmins: new Set(), pageSize: 200, forgeIdTokens: false, idTokenOnRefresh: true, clientID, clientSecret,
    async serviceAccountKey() {
      return JSON.stringify({
        type: 'service_account', project_id: 'idgate-test', private_key_id: 'sa-key-1',
        private_key: await exportPKCS8(serviceAccount.privateKey), client_email: 'idgate-groups@idgate-test.iam.gserviceaccount.com',
        client_id: '1001', auth_uri: `${issuer}/o/oauth2/auth`, token_uri: `${issuer}/token`,
      });
    },
    close: () => server.close(),
  };

  server.route('GET', '/.well-known/openid-configuration', (_request, res) => sendJSON(res, 200, {
    issuer, authorization_endpoint: `${issuer}/o/oauth2/v2/auth`, token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/v1/userinfo`, jwks_uri: `${issuer}/oauth2/v3/certs`,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
    subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'], token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
    code_challenge_methods_supported: ['plain', 'S256'], grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
  }));
  server.route('GET', '/oauth2/v3/certs', async (_request, res) => {
    sendJSON(res, 200, { keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'google-test', alg: 'RS256', use: 'sig' }] });
  });
  server.route('GET', '/admin/directory/v1/groups', (request, res) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !directoryTokens.has(token)) {
      return sendJSON(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    }
    const member = request.query.get('userKey') ?? '';
    const groups = (google.memberships.get(member) ?? []).map((email) => ({ kind: 'admin#directory#group', id: email.split('@')[0], email, name: email.split('@')[0] }));
    const offset = Number(request.query.get('pageToken') ?? 0);
    const body: Record<string, unknown> = { kind: 'admin#directory#groups', etag: '"x"' };
    if (groups.length > 0) body.groups = groups.slice(offset, offset + google.pageSize);
    if (offset + google.pageSize < groups.length) body.nextPageToken = String(offset + google.pageSize);
    sendJSON(res, 200, body);
  });
  return google;
}
