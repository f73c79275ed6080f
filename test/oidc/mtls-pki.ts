/**
 * A test PKI for the RFC 8705 tests, made with openssl in a temp folder: a client CA, a server
 * certificate for 127.0.0.1, client certificates that CA issued (billing: a subject DN and DNS/URI
 * SANs; reports: another subject), one with billing's subject from a CA nobody trusts, and two
 * self-signed client certificates. EC P-256, valid one day; they protect nothing.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSigned, signed, type CertificateFiles } from '../helpers/openssl.js';

export interface KeyPairFiles {
  cert: Buffer;
  key: Buffer;
}

export interface TestPki {
  dir: string;
  /** Paths, for the config's web section. */
  files: { ca: string; serverCert: string; serverKey: string };
  ca: Buffer;
  /** Issued by the CA: subject C=US, O=Example Corp, CN=billing; SANs billing.example.com, spiffe://example.org/billing. */
  billing: KeyPairFiles;
  /** Issued by the CA: CN=reports, O=Example Corp. */
  reports: KeyPairFiles;
  /** billing's subject and SANs, issued by a CA idgate does not trust. */
  impostor: KeyPairFiles;
  /** Self-signed: one registered in a client's jwks (x5c), one not. */
  selfSigned: KeyPairFiles;
  otherSelfSigned: KeyPairFiles;
  remove(): Promise<void>;
}

const BILLING_DN = 'CN=billing,O=Example Corp,C=US';

async function read(files: CertificateFiles): Promise<KeyPairFiles> {
  return { cert: await readFile(files.cert), key: await readFile(files.key) };
}

const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth\nsubjectAltName=DNS:billing.example.com,URI:spiffe://example.org/billing\n';

export async function makePki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-mtls-'));
  const ca = await selfSigned(dir, 'ca', '/CN=idgate mTLS test CA');
  const other = await selfSigned(dir, 'other-ca', '/CN=some other CA');
  const server = await signed(dir, 'server', '/CN=127.0.0.1', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const billing = await signed(dir, 'billing', '/C=US/O=Example Corp/CN=billing', ca, CLIENT_EXTENSIONS);
  const reports = await signed(dir, 'reports', '/O=Example Corp/CN=reports', ca, 'extendedKeyUsage=clientAuth\n');
  const impostor = await signed(dir, 'impostor', '/C=US/O=Example Corp/CN=billing', other, CLIENT_EXTENSIONS);
  // Client certificates that are no CA (openssl's default for req -x509 would make them one).
  const leaf = ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth'];
  const selfSignedClient = await selfSigned(dir, 'self-signed', '/CN=self-signed client', leaf);
  const otherSelfSigned = await selfSigned(dir, 'other-self-signed', '/CN=self-signed client', leaf);
  return {
    dir,
    files: { ca: ca.cert, serverCert: server.cert, serverKey: server.key },
    ca: await readFile(ca.cert),
    billing: await read(billing),
    reports: await read(reports),
    impostor: await read(impostor),
    selfSigned: await read(selfSignedClient),
    otherSelfSigned: await read(otherSelfSigned),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The public JWK of a certificate with its DER in x5c, as a self_signed_tls_client_auth client registers it. */
export function certificateJwk(cert: Buffer): Record<string, unknown> {
  const certificate = new X509Certificate(cert);
  return { ...certificate.publicKey.export({ format: 'jwk' }), x5c: [certificate.raw.toString('base64')] };
}

/**
 * The staticClients entries both mTLS tests use: `billing` (tls_client_auth by subject DN, its tokens
 * bound to its certificate) and `self-signed` (self_signed_tls_client_auth with pki.selfSigned in x5c).
 */
export function certificateClientsYaml(pki: TestPki): string {
  return `  - id: billing
    name: Billing
    tokenEndpointAuthMethod: tls_client_auth
    tlsClientAuthSubjectDN: "${BILLING_DN}"
    tlsClientCertificateBoundAccessTokens: true
    grantTypes: [client_credentials]
  - id: self-signed
    name: Self-signed
    tokenEndpointAuthMethod: self_signed_tls_client_auth
    jwks: { keys: [${JSON.stringify(certificateJwk(pki.selfSigned.cert))}] }
    grantTypes: [client_credentials]
`;
}

/** nginx's $ssl_client_escaped_cert: the PEM, URL-encoded. */
export function escapedPem(cert: Buffer): string {
  return encodeURIComponent(cert.toString());
}
