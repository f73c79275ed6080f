// The sender-constrained token settings, checked when the config is read: web.tlsClientCA,
// web.clientCertificate and web.mtlsURL each do something, the certificate methods have what they need
// (one certificate name for tls_client_auth, x5c certificates for self_signed_tls_client_auth, a way for
// a certificate to arrive), and oauth2.dpop takes only keys that work; each problem names its path.
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { preflightConfig } from '../../src/config/preflight.js';
import { buildIssuer } from '../../src/issuer.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { certificateJwk, makePki, type TestPki } from '../oidc/mtls-pki.js';

let pki: TestPki;

beforeAll(async () => {
  pki = await makePki();
});
afterAll(async () => {
  await pki?.remove();
});

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(`issuer: https://idp.example.com/dex\nstorage: { type: memory }\n${yaml}`, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

const httpsWeb = () => `web:\n  https: 127.0.0.1:5554\n  tlsCert: ${pki.files.serverCert}\n  tlsKey: ${pki.files.serverKey}\n  tlsClientCA: ${pki.files.ca}\n`;
const client = (lines: string) => `staticClients:\n  - id: app\n    name: App\n${lines.split('\n').filter(Boolean).map((line) => `    ${line}`).join('\n')}\n`;

describe('tls_client_auth and self_signed_tls_client_auth clients', () => {
  it('accepts a tls_client_auth client with one certificate name and no secret, and a self-signed one with x5c keys', () => {
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: tls_client_auth\ntlsClientAuthSubjectDN: "CN=app, O=Example"')}`)).toEqual([]);
    for (const name of ['tlsClientAuthSANDNS: app.example.com', 'tlsClientAuthSANURI: spiffe://example.org/app', 'tlsClientAuthSANIP: 10.1.2.3', 'tlsClientAuthSANEmail: app@example.com']) {
      expect(problemsOf(`${httpsWeb()}${client(`tokenEndpointAuthMethod: tls_client_auth\n${name}`)}`), name).toEqual([]);
    }
    const jwk = JSON.stringify(certificateJwk(pki.selfSigned.cert));
    expect(problemsOf(`${httpsWeb()}${client(`tokenEndpointAuthMethod: self_signed_tls_client_auth\njwks: { keys: [${jwk}] }`)}`)).toEqual([]);
  });

  it('needs exactly one well-formed name for tls_client_auth, and none for other methods', () => {
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: tls_client_auth')}`)).toEqual([
      "staticClients[0].tokenEndpointAuthMethod: tls_client_auth needs the name the client's certificate carries: set one of tlsClientAuthSubjectDN, tlsClientAuthSANDNS, tlsClientAuthSANURI, tlsClientAuthSANIP, tlsClientAuthSANEmail",
    ]);
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: tls_client_auth\ntlsClientAuthSubjectDN: CN=app\ntlsClientAuthSANDNS: app.example.com')}`)).toEqual([
      'staticClients[0].tlsClientAuthSANDNS: set one of tlsClientAuthSubjectDN, tlsClientAuthSANDNS, tlsClientAuthSANURI, tlsClientAuthSANIP, tlsClientAuthSANEmail, not several (tlsClientAuthSubjectDN is set)',
    ]);
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: tls_client_auth\ntlsClientAuthSubjectDN: "CN=#04616263"')}`)).toEqual([
      'staticClients[0].tlsClientAuthSubjectDN: not an RFC 4514 DN such as "CN=client,O=Example" (the value of CN is hex-encoded (#...); write it as a string)',
    ]);
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: tls_client_auth\ntlsClientAuthSANIP: not-an-ip')}`)).toEqual([
      'staticClients[0].tlsClientAuthSANIP: not an IP address',
    ]);
    expect(problemsOf(`${httpsWeb()}${client('secret: s\ntlsClientAuthSubjectDN: CN=app')}`)).toEqual([
      'staticClients[0].tlsClientAuthSubjectDN: is used only with tokenEndpointAuthMethod: tls_client_auth',
    ]);
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: tls_client_auth\ntlsClientAuthSANDNS: app.example.com\nsecret: s')}`)).toEqual([
      'staticClients[0].secret: a tls_client_auth client authenticates with its certificate, not a secret: remove it',
    ]);
  });

  it('needs the certificates of a self_signed_tls_client_auth client in x5c, matching their keys', () => {
    expect(problemsOf(`${httpsWeb()}${client('tokenEndpointAuthMethod: self_signed_tls_client_auth')}`)).toEqual([
      "staticClients[0].tokenEndpointAuthMethod: self_signed_tls_client_auth needs the client's certificates (x5c): set jwks or jwksURI",
    ]);
    const { x5c: _, ...bare } = certificateJwk(pki.selfSigned.cert);
    expect(problemsOf(`${httpsWeb()}${client(`tokenEndpointAuthMethod: self_signed_tls_client_auth\njwks: { keys: [${JSON.stringify(bare)}] }`)}`)).toEqual([
      "staticClients[0].jwks.keys[0].x5c: is required: the base64 DER of the client's certificate (self_signed_tls_client_auth matches it)",
    ]);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const mismatched = { ...other, x5c: certificateJwk(pki.selfSigned.cert).x5c };
    expect(problemsOf(`${httpsWeb()}${client(`tokenEndpointAuthMethod: self_signed_tls_client_auth\njwks: { keys: [${JSON.stringify(mismatched)}] }`)}`)).toEqual([
      "staticClients[0].jwks.keys[0].x5c[0]: the certificate's public key is not this key's",
    ]);
  });

  it('refuses certificate methods and bound tokens where no certificate can arrive, and tls_client_auth without CAs', () => {
    const plain = 'web: { http: 127.0.0.1:5556 }\n';
    expect(problemsOf(`${plain}${client('tokenEndpointAuthMethod: tls_client_auth\ntlsClientAuthSANDNS: app.example.com')}`)).toEqual([
      'staticClients[0].tokenEndpointAuthMethod: tls_client_auth needs web.tlsClientCA (the CAs that issue client certificates)',
    ]);
    const jwk = JSON.stringify(certificateJwk(pki.selfSigned.cert));
    expect(problemsOf(`${plain}${client(`tokenEndpointAuthMethod: self_signed_tls_client_auth\njwks: { keys: [${jwk}] }`)}`)).toEqual([
      'staticClients[0].tokenEndpointAuthMethod: self_signed_tls_client_auth: no client certificate can arrive: set web.tlsClientCA with web.https, or web.clientCertificate behind a proxy',
    ]);
    expect(problemsOf(`${plain}${client('secret: s\ntlsClientCertificateBoundAccessTokens: true')}`)).toEqual([
      'staticClients[0].tlsClientCertificateBoundAccessTokens: no client certificate can arrive: set web.tlsClientCA with web.https, or web.clientCertificate behind a proxy',
    ]);
  });
});

describe('web.tlsClientCA, web.clientCertificate, web.mtlsURL', () => {
  it('takes a proxy-forwarded certificate only with trusted proxies and one header', () => {
    expect(problemsOf('web:\n  http: 127.0.0.1:5556\n  clientRemoteIP: { trustedProxies: [10.0.0.0/8] }\n  clientCertificate: { header: X-SSL-Client-Cert }\n')).toEqual([]);
    expect(problemsOf('web:\n  http: 127.0.0.1:5556\n  clientCertificate: { header: X-SSL-Client-Cert }\n')).toEqual([
      "web.clientCertificate: is believed only from web.clientRemoteIP.trustedProxies, which lists none: add the proxy's addresses",
    ]);
    expect(problemsOf('web:\n  http: 127.0.0.1:5556\n  clientRemoteIP: { trustedProxies: [10.0.0.0/8] }\n  clientCertificate: {}\n')).toEqual([
      "web.clientCertificate: names no header: set xfcc (Envoy's x-forwarded-client-cert) or header (nginx's $ssl_client_escaped_cert)",
    ]);
    expect(problemsOf('web:\n  http: 127.0.0.1:5556\n  clientRemoteIP: { trustedProxies: [10.0.0.0/8] }\n  clientCertificate: { header: X-SSL-Client-Cert, xfcc: { trustedBy: [spiffe://td/envoy], forwardClientCertDetails: SANITIZE_SET } }\n')).toEqual([
      'web.clientCertificate.header: set xfcc or header, not both (one proxy writes one of them)',
    ]);
    expect(problemsOf('web:\n  http: 127.0.0.1:5556\n  clientRemoteIP: { trustedProxies: [10.0.0.0/8] }\n  clientCertificate: { xfcc: { trustedBy: [spiffe://td/envoy] } }\n')).toEqual([
      'web.clientCertificate.xfcc.forwardClientCertDetails: trustedBy is set, so say how the proxy writes the header: SANITIZE_SET (it replaces any client value) or APPEND_FORWARD (it appends its own element)',
    ]);
  });

  it('opens web.tlsClientCA in idgate check and at start: a file without a certificate stops both, naming it', async () => {
    const notPem = join(pki.dir, 'not-a-ca.pem');
    await writeFile(notPem, 'this is no certificate\n');
    const config = parseConfig(`issuer: https://idp.example.com/dex\nstorage: { type: memory }\n${httpsWeb().replace(pki.files.ca, notPem)}`, 'test.yaml', {});
    expect((await preflightConfig(config, { connectors: false })).map((p) => `${p.path}: ${p.message}`)).toEqual([
      `web.tlsClientCA: ${notPem}: not a CA certificate bundle (no PEM certificate in it)`,
    ]);
    await expect(buildIssuer(config, { logger: silentLogger() })).rejects.toThrow(`web.tlsClientCA: ${notPem} is not a CA certificate bundle (no PEM certificate in it)`);
  });

  it('refuses a web.tlsClientCA that nothing uses', () => {
    expect(problemsOf(`web:\n  http: 127.0.0.1:5556\n  tlsClientCA: ${pki.files.ca}\n`)).toEqual([
      'web.tlsClientCA: is used by the HTTPS listener (web.https) and for certificates a proxy forwards (web.clientCertificate): set one of them',
    ]);
  });

  it("takes a web.mtlsURL on another host with the issuer's path", () => {
    expect(problemsOf(`${httpsWeb()}  mtlsURL: https://mtls.idp.example.com/dex\n`)).toEqual([]);
    expect(problemsOf(`${httpsWeb()}  mtlsURL: https://mtls.idp.example.com/other\n`)).toEqual([
      "web.mtlsURL: must have the issuer's path (/dex): the same routes serve both",
    ]);
    expect(problemsOf(`${httpsWeb()}  mtlsURL: http://mtls.idp.example.com/dex\n`)).toEqual(['web.mtlsURL: must be an https URL (it is where clients use mutual TLS)']);
    expect(problemsOf(`${httpsWeb()}  mtlsURL: https://idp.example.com/dex\n`)).toEqual([
      'web.mtlsURL: is the issuer URL itself: set it only when clients reach mutual TLS at another host or port',
    ]);
  });
});

describe('oauth2.dpop', () => {
  it('has defaults, and takes nonceLifetime only with requireNonce', () => {
    const config = parseConfig('issuer: https://idp.example.com/dex\nstorage: { type: memory }\nweb: { http: 127.0.0.1:5556 }\n', 'test.yaml', {});
    expect(config.oauth2.dpop).toEqual({ iatWindow: 60_000, requireNonce: false });
    expect(problemsOf('web: { http: 127.0.0.1:5556 }\noauth2: { dpop: { nonceLifetime: 1m } }\n')).toEqual([
      'oauth2.dpop.nonceLifetime: is used only with requireNonce: true (no nonce is handed out otherwise)',
    ]);
    expect(problemsOf('web: { http: 127.0.0.1:5556 }\noauth2: { dpop: { requireNonce: true, nonceLifetime: 1m, iatWindow: 0s } }\n')).toEqual([
      'oauth2.dpop.iatWindow: "0s" must be longer than 0',
    ]);
  });
});
