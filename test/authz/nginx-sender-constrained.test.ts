/**
 * Sender-constrained tokens behind a real nginx, configured exactly as docs/sender-constrained.md
 * prints it (only ports and file paths substituted): nginx terminates TLS, verifies client
 * certificates against the test CA, and hands the certificate to idgate in XFCC from
 * $ssl_client_escaped_cert. Clients are real: node's TLS client with a client certificate, and
 * openid-client making DPoP requests (fetchProtectedResource with a DPoP handle) over that TLS.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../admin/api/certs.js';
import { certificateSha256Hex, certificateThumbprint } from './helpers/dpop.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { nginxAvailable, startNginx, type RunningNginx } from './helpers/nginx.js';
import { guideBlock, substitute } from './helpers/proxy-guide.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const NGINX_BY = 'spiffe://example.org/nginx';

interface TlsClient {
  cert?: Buffer;
  key?: Buffer;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let certs: TestCertificates;
let issuerKey: TestKey;
let fixture: FilterFixture;
let nginx: RunningNginx;
let upstream: http.Server;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  // Never skipped: a missing nginx is a broken test machine, and .ci/run installs it.
  if (!nginxAvailable()) throw new Error('/usr/sbin/nginx is missing: install Debian\'s nginx (apt-get install nginx), as .ci/run does');
  certs = await makeCertificates();
  issuerKey = await testKey('k1');
  fixture = await startFilterFixture({
    'shop.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: shop }
spec:
  jwtRules: [{ issuer: "${ISS}", jwks: ${JSON.stringify(JSON.stringify(jwksOf(issuerKey)))} }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: shop, namespace: shop }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/api/*"] } }]
`,
  }, { xfcc: { trustedBy: [NGINX_BY], forwardClientCertDetails: 'SANITIZE_SET' } });
  upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const block = await guideBlock('../sender-constrained.md', 'nginx');
  const upstreamPort = (upstream.address() as AddressInfo).port;
  nginx = await startNginx((port) => substitute(block, [
    ['server 127.0.0.1:9192;', `server 127.0.0.1:${fixture.filter.httpPort};`],
    ['listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`],
    ['/etc/nginx/tls/server.crt', certs.files.serverCert],
    ['/etc/nginx/tls/server.key', certs.files.serverKey],
    ['/etc/nginx/tls/client-ca.crt', certs.files.ca],
    ['proxy_pass http://backend;', `proxy_pass http://127.0.0.1:${upstreamPort};`],
  ]));
});

afterAll(async () => {
  await nginx?.stop();
  if (upstream) await new Promise((resolve) => upstream.close(resolve));
  await fixture?.close();
  await certs?.remove();
});

const origin = () => `https://127.0.0.1:${nginx.port}`;
const lastAudit = () => JSON.parse(fixture.audit[fixture.audit.length - 1]!) as Record<string, unknown>;

/** One HTTPS request to nginx, trusting the test CA, with the client certificate when given. */
function request(method: string, url: string, headers: Record<string, string>, tls: TlsClient, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: certs.ca, ...tls, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** openid-client's fetch over that TLS client; the headers it sent are kept for a replay. */
function rpConfiguration(tls: TlsClient, sent: Array<Record<string, string>>): oidc.Configuration {
  const config = new oidc.Configuration({ issuer: ISS }, 'shop-app');
  config[oidc.customFetch] = async (url, options) => {
    const headers = Object.fromEntries(new Headers(options.headers as Record<string, string>).entries());
    sent.push(headers);
    const answer = await request(options.method, url, headers, tls, typeof options.body === 'string' ? options.body : undefined);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
    return new Response(answer.body, { status: answer.status, headers: responseHeaders });
  };
  return config;
}

describe('certificate-bound tokens through nginx', () => {
  const client = () => ({ cert: certs.client.cert, key: certs.client.key });

  it('allows the token with the client certificate it is bound to; the token stops at nginx', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'svc-a', cnf: { 'x5t#S256': certificateThumbprint(certs.client.cert) } });
    seen.length = 0;
    const answer = await request('GET', `${origin()}/api/orders`, { authorization: `Bearer ${token}` }, client());
    expect(answer.status).toBe(200);
    expect(seen[0]).toMatchObject({ 'x-idgate-request-principal': `${ISS}/svc-a` });
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('refuses it without a certificate, even when the client writes XFCC itself', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'svc-a', cnf: { 'x5t#S256': certificateThumbprint(certs.client.cert) } });
    const forged = `By=${NGINX_BY};Hash=${certificateSha256Hex(certs.client.cert)}`;
    const answer = await request('GET', `${origin()}/api/orders`, { authorization: `Bearer ${token}`, 'x-forwarded-client-cert': forged }, {});
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(`Bearer realm="${origin()}/api/orders", error="invalid_token", error_description="the token is bound to a client certificate and the request came without one"`);
    expect(lastAudit()).toMatchObject({ transport: 'nginx', jwtError: 'ERR_CERTIFICATE_MISSING' });
  });

  it('refuses a token bound to another certificate', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'svc-b', cnf: { 'x5t#S256': certificateThumbprint(certs.untrusted.cert) } });
    expect((await request('GET', `${origin()}/api/orders`, { authorization: `Bearer ${token}` }, client())).status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISMATCH' });
  });

  it('never reaches idgate with a certificate nginx does not trust', async () => {
    const before = fixture.audit.length;
    const token = await mint(issuerKey, { iss: ISS, sub: 'svc-b', cnf: { 'x5t#S256': certificateThumbprint(certs.untrusted.cert) } });
    const answer = await request('GET', `${origin()}/api/orders`, { authorization: `Bearer ${token}` }, { cert: certs.untrusted.cert, key: certs.untrusted.key });
    expect(answer.status).toBe(400);
    expect(fixture.audit.length).toBe(before);
  });
});

describe('DPoP-bound tokens through nginx, from openid-client', () => {
  it('allows a DPoP request, refuses its replay, and refuses the token as Bearer', async () => {
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const token = await mint(issuerKey, { iss: ISS, sub: 'app', cnf: { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256') } });
    const sent: Array<Record<string, string>> = [];
    const config = rpConfiguration({}, sent);
    seen.length = 0;
    const response = await oidc.fetchProtectedResource(config, token, new URL(`${origin()}/api/orders?page=2`), 'GET', undefined, undefined, { DPoP: oidc.getDPoPHandle(config, keyPair) });
    expect(response.status).toBe(200);
    expect(seen[0]).toMatchObject({ 'x-idgate-request-principal': `${ISS}/app` });
    expect(seen[0]!.dpop).toBeUndefined();
    expect(seen[0]!.authorization).toBeUndefined();

    const replayed = await request('GET', `${origin()}/api/orders?page=2`, sent[0]!, {});
    expect(replayed.status).toBe(401);
    expect(replayed.headers['www-authenticate']).toBe(`DPoP realm="${origin()}/api/orders", error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256 RS256 PS256 EdDSA Ed25519"`);

    const asBearer = await request('GET', `${origin()}/api/orders`, { authorization: `Bearer ${token}` }, {});
    expect(asBearer.status).toBe(401);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_DPOP_BOUND_AS_BEARER' });
  });

  it('allows a token bound to a DPoP key and a certificate only with both', async () => {
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
    const token = await mint(issuerKey, { iss: ISS, sub: 'app2', cnf: { jkt, 'x5t#S256': certificateThumbprint(certs.client.cert) } });
    const withCert = rpConfiguration({ cert: certs.client.cert, key: certs.client.key }, []);
    const url = new URL(`${origin()}/api/orders`);
    expect((await oidc.fetchProtectedResource(withCert, token, url, 'POST', '{}', undefined, { DPoP: oidc.getDPoPHandle(withCert, keyPair) })).status).toBe(200);
    const withoutCert = rpConfiguration({}, []);
    // openid-client turns the 401 and its challenge into an error.
    await expect(oidc.fetchProtectedResource(withoutCert, token, url, 'POST', '{}', undefined, { DPoP: oidc.getDPoPHandle(withoutCert, keyPair) })).rejects.toThrow(/challenge in the WWW-Authenticate/);
    expect(lastAudit()).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
  });
});
