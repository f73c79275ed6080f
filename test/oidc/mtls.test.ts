/**
 * RFC 8705 at the issuer, driven by oauth4webapi (TlsClientAuth over a fetch that presents a real
 * client certificate) against the HTTPS listener with web.tlsClientCA: tls_client_auth by subject DN
 * and by SAN, self_signed_tls_client_auth against the client's jwks, certificate-bound access tokens
 * (cnf x5t#S256) at introspection and /userinfo, and every refusal: another certificate, none, one
 * from a CA not trusted, a self-signed one not registered. Browsers without a certificate still work.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { freePort } from '../helpers/free-port.js';
import { certificateClientsYaml, makePki, type KeyPairFiles, type TestPki } from './mtls-pki.js';
import { tlsFetch, type TlsFetch } from './tls-fetch.js';

const SECRET = 'c2VjcmV0LWJvdW5kLWNsaWVudC1zZWNyZXQ';

let pki: TestPki;
let server: RunningServer;
let issuer: URL;
let as: oauth.AuthorizationServer;

function thumbprintOf(cert: Buffer): string {
  return createHash('sha256').update(new X509Certificate(cert).raw).digest('base64url');
}

beforeAll(async () => {
  pki = await makePki();
  const port = await freePort();
  issuer = new URL(`https://127.0.0.1:${port}/dex`);
  const config = parseConfig(`issuer: ${issuer.href}
storage: { type: memory }
audit: { stdout: false }
web:
  https: 127.0.0.1:${port}
  tlsCert: ${pki.files.serverCert}
  tlsKey: ${pki.files.serverKey}
  tlsClientCA: ${pki.files.ca}
staticClients:
${certificateClientsYaml(pki)}  - id: billing-dns
    name: Billing by DNS name
    tokenEndpointAuthMethod: tls_client_auth
    tlsClientAuthSANDNS: billing.example.com
    grantTypes: [client_credentials]
  - id: secret-bound
    name: Secret, certificate-bound tokens
    secret: ${SECRET}
    tlsClientCertificateBoundAccessTokens: true
    grantTypes: [client_credentials]
`, 'test.yaml', {});
  server = await startServer(config, { logger: silentLogger() });
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.customFetch]: tlsFetch(pki.ca) }));
});
afterAll(async () => {
  await server?.close();
  await pki?.remove();
});

function fetchAs(identity?: KeyPairFiles): TlsFetch {
  return tlsFetch(pki.ca, identity ?? {});
}

async function clientCredentials(clientId: string, identity: KeyPairFiles | undefined, auth: oauth.ClientAuth = oauth.TlsClientAuth()) {
  const client: oauth.Client = { client_id: clientId };
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, {}, { [oauth.customFetch]: fetchAs(identity) });
  return oauth.processClientCredentialsResponse(as, client, response);
}

describe('mTLS at the issuer (RFC 8705)', () => {
  it('serves a client without a certificate (a browser): the listener asks for one, never requires it', async () => {
    const response = await fetchAs()(`${issuer.href}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    expect(as.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(as.mtls_endpoint_aliases).toBeUndefined();
  });

  it('tls_client_auth by subject DN: client_credentials gives an access token bound to the certificate', async () => {
    const tokens = await clientCredentials('billing', pki.billing);
    expect(tokens.token_type).toBe('bearer');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'billing', cnf: { 'x5t#S256': thumbprintOf(pki.billing.cert) } });
  });

  it('tls_client_auth by DNS subjectAltName', async () => {
    const tokens = await clientCredentials('billing-dns', pki.billing);
    expect(decodeJwt(tokens.access_token).cnf).toBeUndefined();
  });

  it('refuses tls_client_auth with another certificate, with none, and with the same names from a CA not trusted', async () => {
    await expect(clientCredentials('billing', pki.reports)).rejects.toMatchObject({
      error: 'invalid_client', error_description: 'the client certificate does not carry the tlsClientAuthSubjectDN registered for client "billing"',
    });
    await expect(clientCredentials('billing', undefined)).rejects.toMatchObject({
      error: 'invalid_client', error_description: 'tls_client_auth needs a client certificate: send the request over mutual TLS',
    });
    await expect(clientCredentials('billing', pki.impostor)).rejects.toMatchObject({
      error: 'invalid_client', error_description: 'the client certificate was not issued by a CA in web.tlsClientCA',
    });
    await expect(clientCredentials('billing-dns', pki.reports)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('self_signed_tls_client_auth: the certificate registered in jwks (x5c) authenticates; another self-signed one does not', async () => {
    const tokens = await clientCredentials('self-signed', pki.selfSigned);
    expect(decodeJwt(tokens.access_token).sub).toBe('self-signed');
    await expect(clientCredentials('self-signed', pki.otherSelfSigned)).rejects.toMatchObject({
      error: 'invalid_client', error_description: 'the client certificate is not one registered for client "self-signed" (x5c of its jwks)',
    });
    await expect(clientCredentials('self-signed', pki.billing)).rejects.toMatchObject({ error: 'invalid_client' });
    await expect(clientCredentials('self-signed', undefined)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('binds a secret client\'s tokens to the certificate it connected with, and refuses it without one', async () => {
    const tokens = await clientCredentials('secret-bound', pki.reports, oauth.ClientSecretBasic(SECRET));
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ 'x5t#S256': thumbprintOf(pki.reports.cert) });
    await expect(clientCredentials('secret-bound', undefined, oauth.ClientSecretBasic(SECRET))).rejects.toMatchObject({
      error: 'invalid_request',
      error_description: 'client "secret-bound" gets certificate-bound tokens only (tlsClientCertificateBoundAccessTokens): send the request over mutual TLS',
    });
  });

  it('introspection reports the binding (cnf)', async () => {
    const tokens = await clientCredentials('billing', pki.billing);
    const response = await oauth.introspectionRequest(as, { client_id: 'billing' }, oauth.TlsClientAuth(), tokens.access_token, {
      [oauth.customFetch]: fetchAs(pki.billing),
    });
    const answer = await oauth.processIntrospectionResponse(as, { client_id: 'billing' }, response);
    expect(answer).toMatchObject({ active: true, token_type: 'Bearer', cnf: { 'x5t#S256': thumbprintOf(pki.billing.cert) } });
  });

  it('/userinfo takes a certificate-bound token only over a connection with that certificate', async () => {
    const tokens = await clientCredentials('billing', pki.billing);
    const call = (identity?: KeyPairFiles) => fetchAs(identity)(`${issuer.href}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await (await call(pki.billing)).json()).toEqual({ sub: 'billing' });
    for (const identity of [undefined, pki.reports]) {
      const refused = await call(identity);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe(
        'Bearer realm="idgate", error="invalid_token", error_description="the access token is bound to a client certificate this request did not present"',
      );
    }
  });
});
