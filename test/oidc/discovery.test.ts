// Discovery, /keys and CORS: every advertised value is true of the server, /keys publishes public keys
// only with a safe max-age, and browsers from allowed origins (only) get CORS headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.js';

let server: TestServer;
let metadata: Record<string, unknown>;

beforeAll(async () => {
  server = await startTestServer({ yaml: 'signer: { config: { algorithm: EdDSA, keysRotationPeriod: 1h } }' });
  metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
});
afterAll(() => server.close());

describe('discovery', () => {
  it('names this issuer and its endpoints under the issuer path', () => {
    expect(metadata).toMatchObject({
      issuer: server.issuer,
      authorization_endpoint: `${server.issuer}/auth`,
      token_endpoint: `${server.issuer}/token`,
      jwks_uri: `${server.issuer}/keys`,
      userinfo_endpoint: `${server.issuer}/userinfo`,
      introspection_endpoint: `${server.issuer}/token/introspect`,
    });
  });

  it('advertises only what the server does', () => {
    expect(metadata).toMatchObject({
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      grant_types_supported: [
        'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['EdDSA'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'],
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      pushed_authorization_request_endpoint: `${server.issuer}/par`,
      require_pushed_authorization_requests: false,
    });
    expect(metadata.scopes_supported).toEqual(['openid', 'email', 'profile', 'groups', 'offline_access', 'federated:id']);
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'groups', 'federated_claims', 'at_hash']));
  });

  it('serves every advertised endpoint of its own (token and userinfo answer protocol errors, not 404)', async () => {
    const token = await fetch(metadata.token_endpoint as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(token.status).toBe(400);
    expect((await fetch(metadata.userinfo_endpoint as string)).status).toBe(401);
    expect((await fetch(metadata.jwks_uri as string)).status).toBe(200);
    const introspection = await fetch(metadata.introspection_endpoint as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    expect(introspection.status).toBe(401);
  });

  it('follows the configured grant types', async () => {
    const codeOnly = await startTestServer({ yaml: 'oauth2: { grantTypes: [authorization_code] }' });
    try {
      const doc = (await (await fetch(`${codeOnly.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(doc.grant_types_supported).toEqual(['authorization_code']);
      await codeOnly.seedClient({ id: 'web', secret: 's' });
      const response = await codeOnly.post('/token', { grant_type: 'refresh_token', refresh_token: 'a.b', client_id: 'web', client_secret: 's' });
      expect(((await response.json()) as { error: string }).error).toBe('unsupported_grant_type');
    } finally {
      await codeOnly.close();
    }
  });

  it('advertises DPoP, and certificate binding and methods only where a client certificate can arrive', async () => {
    expect(metadata).toMatchObject({
      dpop_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
      tls_client_certificate_bound_access_tokens: false,
    });
    expect(metadata.mtls_endpoint_aliases).toBeUndefined();
    const proxied = await startTestServer({
      yaml: 'web:\n  http: 127.0.0.1:0\n  mtlsURL: https://mtls.idp.example/dex\n  clientRemoteIP: { trustedProxies: [127.0.0.1/32] }\n  clientCertificate: { header: X-SSL-Client-Cert }',
    });
    try {
      const doc = (await (await fetch(`${proxied.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      // Without web.tlsClientCA there is nothing to check a CA-issued certificate against: no tls_client_auth.
      expect(doc.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'self_signed_tls_client_auth', 'none']);
      expect(doc.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'self_signed_tls_client_auth']);
      expect(doc.tls_client_certificate_bound_access_tokens).toBe(true);
      expect(doc.mtls_endpoint_aliases).toEqual({
        token_endpoint: 'https://mtls.idp.example/dex/token',
        userinfo_endpoint: 'https://mtls.idp.example/dex/userinfo',
        revocation_endpoint: 'https://mtls.idp.example/dex/token/revoke',
        introspection_endpoint: 'https://mtls.idp.example/dex/token/introspect',
        pushed_authorization_request_endpoint: 'https://mtls.idp.example/dex/par',
        device_authorization_endpoint: 'https://mtls.idp.example/dex/device/code',
      });
    } finally {
      await proxied.close();
    }
  });

  it('records the route template for metrics', async () => {
    await fetch(`${server.issuer}/keys`);
    expect(server.routes.at(-1)).toBe('/keys');
  });
});

describe('/keys', () => {
  it('publishes the signing and next keys, public members only', async () => {
    const { keys } = (await (await fetch(`${server.issuer}/keys`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(key).not.toHaveProperty('d');
      expect(key.kid).toBeTypeOf('string');
    }
  });

  it('lets caches keep it for at most half a rotation period (capped at 600 s)', async () => {
    const response = await fetch(`${server.issuer}/keys`);
    expect(response.headers.get('cache-control')).toBe('public, max-age=600, must-revalidate');
    const short = await startTestServer({ yaml: 'signer: { config: { keysRotationPeriod: 10m } }' });
    try {
      expect((await fetch(`${short.issuer}/keys`)).headers.get('cache-control')).toBe('public, max-age=300, must-revalidate');
    } finally {
      await short.close();
    }
  });
});

describe('CORS', () => {
  const paths = ['/.well-known/openid-configuration', '/keys', '/userinfo'];

  it('allows a configured origin and varies on Origin', async () => {
    for (const path of paths) {
      const response = await fetch(`${server.issuer}${path}`, { headers: { origin: 'https://app.example' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(response.headers.get('vary')).toMatch(/Origin/);
      // A browser client reads the DPoP nonce and the challenge (RFC 9449 §8).
      expect(response.headers.get('access-control-expose-headers')).toBe('DPoP-Nonce, WWW-Authenticate');
    }
  });

  it('gives no CORS headers to any other origin', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.evil', 'http://app.example']) {
      const response = await fetch(`${server.issuer}/keys`, { headers: { origin } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('answers a preflight for /token from an allowed origin', async () => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/DPoP/);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses a preflight from another origin', async () => {
    const response = await fetch(`${server.issuer}/token`, {
      method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('allows any origin with "*"', async () => {
    const open = await startTestServer({ yaml: 'web: { http: "127.0.0.1:0", allowedOrigins: ["*"] }' });
    try {
      const response = await fetch(`${open.issuer}/keys`, { headers: { origin: 'https://anyone.example' } });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await open.close();
    }
  });
});
