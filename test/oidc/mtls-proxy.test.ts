/**
 * The client certificate from a TLS-terminating proxy (web.clientCertificate), believed only from a
 * web.clientRemoteIP.trustedProxies address: Envoy's x-forwarded-client-cert under the filter's rules
 * (SANITIZE_SET: one element, its By= trusted; Cert= and Hash= agreeing) and nginx's escaped PEM
 * header. A forwarded certificate passes tls_client_auth only if a CA in web.tlsClientCA issued it,
 * whatever the proxy checked; Hash= alone binds tokens and serves self_signed_tls_client_auth.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { certificateClientsYaml, escapedPem, makePki, type TestPki } from './mtls-pki.js';

const ENVOY = 'spiffe://example.org/ns/ingress/sa/envoy';

let pki: TestPki;
const issuers: TestIssuer[] = [];

async function issuerWith(web: string): Promise<TestIssuer> {
  const issuer = await startTestIssuer({ configYaml: `storage: { type: memory }\nweb:\n  http: 127.0.0.1:0\n  tlsClientCA: ${pki.files.ca}\n${web}staticClients:\n${certificateClientsYaml(pki)}` });
  issuers.push(issuer);
  return issuer;
}

let envoy: TestIssuer;
let nginx: TestIssuer;
let untrustedHop: TestIssuer;

beforeAll(async () => {
  pki = await makePki();
  const xfcc = `  clientCertificate: { xfcc: { trustedBy: ["${ENVOY}"], forwardClientCertDetails: SANITIZE_SET } }\n`;
  envoy = await issuerWith(`  clientRemoteIP: { trustedProxies: [127.0.0.1/32] }\n${xfcc}`);
  nginx = await issuerWith('  clientRemoteIP: { trustedProxies: [127.0.0.1/32] }\n  clientCertificate: { header: X-SSL-Client-Cert }\n');
  untrustedHop = await issuerWith(`  clientRemoteIP: { trustedProxies: [10.0.0.0/8] }\n${xfcc}`);
});
afterAll(async () => {
  for (const issuer of issuers) await issuer.close();
  await pki?.remove();
});

function sha256Hex(cert: Buffer): string {
  return createHash('sha256').update(new X509Certificate(cert).raw).digest('hex');
}

function xfccOf(cert: Buffer, options: { by?: string; hash?: string; withCert?: boolean } = {}): string {
  const parts = [`By=${options.by ?? ENVOY}`, `Hash=${options.hash ?? sha256Hex(cert)}`];
  if (options.withCert ?? true) parts.push(`Cert="${escapedPem(cert)}"`);
  return parts.join(';');
}

async function token(issuer: TestIssuer, clientId: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${issuer.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('client certificates forwarded by a trusted proxy', () => {
  it("takes Envoy's XFCC Cert= from a trusted hop: tls_client_auth and a certificate-bound token", async () => {
    const answer = await token(envoy, 'billing', { 'x-forwarded-client-cert': xfccOf(pki.billing.cert) });
    expect(answer.status).toBe(200);
    const thumbprint = Buffer.from(sha256Hex(pki.billing.cert), 'hex').toString('base64url');
    expect(decodeJwt(answer.body.access_token as string).cnf).toEqual({ 'x5t#S256': thumbprint });
  });

  it('believes no XFCC from a hop outside trustedProxies', async () => {
    const answer = await token(untrustedHop, 'billing', { 'x-forwarded-client-cert': xfccOf(pki.billing.cert) });
    expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: 'tls_client_auth needs a client certificate: send the request over mutual TLS' } });
  });

  it("believes no XFCC element whose By= is not trusted, nor two elements under SANITIZE_SET, nor a Hash= that is not the Cert='s", async () => {
    for (const header of [
      xfccOf(pki.billing.cert, { by: 'spiffe://example.org/ns/attacker/sa/proxy' }),
      `${xfccOf(pki.reports.cert)},${xfccOf(pki.billing.cert)}`,
      xfccOf(pki.billing.cert, { hash: sha256Hex(pki.reports.cert) }),
    ]) {
      const answer = await token(envoy, 'billing', { 'x-forwarded-client-cert': header });
      expect(answer, header).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: 'tls_client_auth needs a client certificate: send the request over mutual TLS' } });
    }
  });

  it('checks a forwarded certificate against web.tlsClientCA itself: a proxy that forwards an unverified one does not make it trusted', async () => {
    const answer = await token(envoy, 'billing', { 'x-forwarded-client-cert': xfccOf(pki.impostor.cert) });
    expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: 'the client certificate was not issued by a CA in web.tlsClientCA' } });
  });

  it('Hash= alone serves self_signed_tls_client_auth, and not tls_client_auth, which needs the certificate', async () => {
    const selfSigned = await token(envoy, 'self-signed', { 'x-forwarded-client-cert': xfccOf(pki.selfSigned.cert, { withCert: false }) });
    expect(selfSigned.status).toBe(200);
    const other = await token(envoy, 'self-signed', { 'x-forwarded-client-cert': xfccOf(pki.otherSelfSigned.cert, { withCert: false }) });
    expect(other).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const pkiMethod = await token(envoy, 'billing', { 'x-forwarded-client-cert': xfccOf(pki.billing.cert, { withCert: false }) });
    expect(pkiMethod.body.error_description).toBe("the proxy forwarded only the client certificate's hash (XFCC Hash=); tls_client_auth needs the certificate itself (Cert=)");
  });

  it("takes nginx's $ssl_client_escaped_cert from the configured header, and nothing from XFCC there", async () => {
    const answer = await token(nginx, 'billing', { 'x-ssl-client-cert': escapedPem(pki.billing.cert) });
    expect(answer.status).toBe(200);
    expect(await token(nginx, 'billing', { 'x-ssl-client-cert': escapedPem(pki.reports.cert) })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await token(nginx, 'billing', { 'x-ssl-client-cert': 'not a certificate' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await token(nginx, 'billing', { 'x-forwarded-client-cert': xfccOf(pki.billing.cert) })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});
