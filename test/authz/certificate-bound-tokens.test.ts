/**
 * Certificate-bound access tokens (cnf["x5t#S256"], RFC 8705 §3) at the filter: allowed only when the
 * client certificate the proxy verified has the token's thumbprint — over gRPC from
 * attributes.source.certificate (Envoy's include_peer_certificate), over the HTTP modes (and gRPC
 * behind Istio's provider, which sends no certificate) from XFCC `Hash=`/`Cert=` of a trusted proxy
 * only. Another certificate, none, and an XFCC the trust rules do not believe are refused. Then the
 * policies that require a binding (`request.auth.binding`), and their validation.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runValidateCommand } from '../../src/admin/validate/cli.js';
import { makeCertificates, type TestCertificates } from '../admin/api/certs.js';
import { checkVia, closeGrpcClient, requestUrl, TRANSPORTS, type AnyRequest } from './helpers/any-transport.js';
import { certificateSha256Hex, certificateThumbprint, dpopKey, dpopProof, type DpopKey } from './helpers/dpop.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const GATEWAY = 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway';
const HTTP_MODES = TRANSPORTS.filter((t) => t !== 'grpc');

function policies(jwks: string): Record<string, string> {
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "${ISS}", jwks: ${JSON.stringify(jwks)} }]
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: api, namespace: default }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/api/*"] } }]
  - to: [{ operation: { paths: ["/dpop-only/*"] } }]
    when: [{ key: request.auth.binding, values: [dpop] }]
  - to: [{ operation: { paths: ["/mtls-only/*"] } }]
    when: [{ key: request.auth.binding, values: [mtls] }]
  - to: [{ operation: { paths: ["/bound/*"] } }]
    when: [{ key: request.auth.binding, notValues: [none] }]
  - to: [{ operation: { paths: ["/bearer/*"] } }]
    when: [{ key: request.auth.binding, values: [none] }]
`,
  };
}

let certs: TestCertificates;
let issuerKey: TestKey;
let key: DpopKey;
/** SANITIZE (default): XFCC is never believed. */
let plain: FilterFixture;
/** The gateway overwrites XFCC (SANITIZE_SET) and is trusted by its By=. */
let gateway: FilterFixture;
let certBound: string;
let bearer: string;
let dpopBound: string;
let doublyBound: string;

const urlPem = (pem: Buffer) => encodeURIComponent(pem.toString());

beforeAll(async () => {
  certs = await makeCertificates();
  issuerKey = await testKey('k1');
  key = await dpopKey();
  const x5t = certificateThumbprint(certs.client.cert);
  certBound = await mint(issuerKey, { iss: ISS, sub: 'svc-a', cnf: { 'x5t#S256': x5t } });
  bearer = await mint(issuerKey, { iss: ISS, sub: 'svc-b' });
  dpopBound = await mint(issuerKey, { iss: ISS, sub: 'svc-c', cnf: { jkt: key.jkt } });
  doublyBound = await mint(issuerKey, { iss: ISS, sub: 'svc-d', cnf: { jkt: key.jkt, 'x5t#S256': x5t } });
  const jwks = JSON.stringify(jwksOf(issuerKey));
  plain = await startFilterFixture(policies(jwks));
  gateway = await startFilterFixture(policies(jwks), { xfcc: { trustedBy: [GATEWAY], forwardClientCertDetails: 'SANITIZE_SET' } });
});

afterAll(async () => {
  for (const f of [plain, gateway]) if (f) closeGrpcClient(f);
  await plain?.close();
  await gateway?.close();
  await certs?.remove();
});

function lastAudit(f: FilterFixture): Record<string, unknown> {
  return JSON.parse(f.audit[f.audit.length - 1]!) as Record<string, unknown>;
}

const bearerOf = (token: string, path = '/api/x'): AnyRequest => ({ path, headers: { authorization: `Bearer ${token}` } });

describe('over gRPC, from attributes.source.certificate', () => {
  it('allows the token with the certificate it is bound to', async () => {
    const outcome = await checkVia('grpc', plain, { ...bearerOf(certBound), peerCertificate: urlPem(certs.client.cert) });
    expect(outcome.status).toBe(200);
    expect(outcome.headers['x-idgate-request-principal']).toBe(`${ISS}/svc-a`);
  });

  it('refuses it with another certificate, with none, and with one that does not decode', async () => {
    const other = await checkVia('grpc', plain, { ...bearerOf(certBound), peerCertificate: urlPem(certs.untrusted.cert) });
    expect(other.status).toBe(401);
    expect(other.headers['www-authenticate']).toBe('Bearer realm="http://app.example.com/api/x", error="invalid_token", error_description="the token is bound to another client certificate"');
    expect(lastAudit(plain)).toMatchObject({ reason: 'token_binding', jwtError: 'ERR_CERTIFICATE_MISMATCH' });
    expect((await checkVia('grpc', plain, bearerOf(certBound))).status).toBe(401);
    expect(lastAudit(plain)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
    expect((await checkVia('grpc', plain, { ...bearerOf(certBound), peerCertificate: '-----BEGIN%20CERTIFICATE-----%0Anot%20base64%0A-----END%20CERTIFICATE-----' })).status).toBe(401);
    expect(lastAudit(plain)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
  });

  it('does not take a certificate from XFCC unless filter.xfcc trusts the proxy that wrote it', async () => {
    const xfcc = `By=${GATEWAY};Hash=${certificateSha256Hex(certs.client.cert)}`;
    expect((await checkVia('grpc', plain, { path: '/api/x', headers: { authorization: `Bearer ${certBound}`, 'x-forwarded-client-cert': xfcc } })).status).toBe(401);
    expect(lastAudit(plain)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
    // Behind a trusted Istio gateway (no include_peer_certificate), its XFCC counts.
    expect((await checkVia('grpc', gateway, { path: '/api/x', headers: { authorization: `Bearer ${certBound}`, 'x-forwarded-client-cert': xfcc } })).status).toBe(200);
  });

  it('prefers the certificate Envoy reports itself over any XFCC', async () => {
    const xfcc = `By=${GATEWAY};Hash=${certificateSha256Hex(certs.client.cert)}`;
    const outcome = await checkVia('grpc', gateway, { path: '/api/x', headers: { authorization: `Bearer ${certBound}`, 'x-forwarded-client-cert': xfcc }, peerCertificate: urlPem(certs.untrusted.cert) });
    expect(outcome.status).toBe(401);
    expect(lastAudit(gateway)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISMATCH' });
  });
});

describe.each(HTTP_MODES)('over %s, from XFCC', (mode) => {
  const withXfcc = (token: string, xfcc: string, path = '/api/x'): AnyRequest => ({ path, headers: { authorization: `Bearer ${token}`, 'x-forwarded-client-cert': xfcc } });

  it('allows the token when the trusted proxy reports its certificate, as Hash= or as Cert=', async () => {
    const hash = `By=${GATEWAY};Hash=${certificateSha256Hex(certs.client.cert)};Subject="CN=ops-admin";URI=spiffe://cluster.local/ns/a/sa/b`;
    expect((await checkVia(mode, gateway, withXfcc(certBound, hash))).status).toBe(200);
    const cert = `By=${GATEWAY};Cert="${urlPem(certs.client.cert)}";Subject="CN=ops-admin"`;
    expect((await checkVia(mode, gateway, withXfcc(certBound, cert))).status).toBe(200);
  });

  it('refuses it with another certificate and without one', async () => {
    const other = await checkVia(mode, gateway, withXfcc(certBound, `By=${GATEWAY};Hash=${certificateSha256Hex(certs.untrusted.cert)}`));
    expect(other.status).toBe(401);
    expect(other.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(lastAudit(gateway)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISMATCH' });
    expect((await checkVia(mode, gateway, bearerOf(certBound))).status).toBe(401);
    expect(lastAudit(gateway)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
    expect((await checkVia(mode, gateway, withXfcc(certBound, `By=${GATEWAY};Hash=;Cert=""`))).status).toBe(401);
    expect(lastAudit(gateway)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
  });

  it('does not believe XFCC from an untrusted hop', async () => {
    const right = `By=${GATEWAY};Hash=${certificateSha256Hex(certs.client.cert)}`;
    // SANITIZE (the default): never believed.
    expect((await checkVia(mode, plain, withXfcc(certBound, right))).status).toBe(401);
    expect(lastAudit(plain)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
    // A By= the config does not trust.
    expect((await checkVia(mode, gateway, withXfcc(certBound, `By=spiffe://cluster.local/ns/x/sa/forger;Hash=${certificateSha256Hex(certs.client.cert)}`))).status).toBe(401);
    // SANITIZE_SET: the gateway writes one element; a client's element in front of it is a forgery.
    expect((await checkVia(mode, gateway, withXfcc(certBound, `${right},By=${GATEWAY};Hash=${certificateSha256Hex(certs.untrusted.cert)}`))).status).toBe(401);
    expect(lastAudit(gateway)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
  });
});

describe('a token bound to both a DPoP key and a certificate', () => {
  it('needs the proof and the certificate', async () => {
    const request: AnyRequest = { path: '/api/x' };
    const proof = () => dpopProof(key, 'GET', requestUrl(request), doublyBound);
    const headers = async () => ({ authorization: `DPoP ${doublyBound}`, dpop: await proof() });
    expect((await checkVia('grpc', plain, { ...request, headers: await headers(), peerCertificate: urlPem(certs.client.cert) })).status).toBe(200);
    expect((await checkVia('grpc', plain, { ...request, headers: await headers() })).status).toBe(401);
    expect(lastAudit(plain)).toMatchObject({ jwtError: 'ERR_CERTIFICATE_MISSING' });
    expect((await checkVia('grpc', plain, { ...request, headers: { authorization: `DPoP ${doublyBound}` }, peerCertificate: urlPem(certs.client.cert) })).status).toBe(401);
    expect(lastAudit(plain)).toMatchObject({ jwtError: 'ERR_DPOP_PROOF_MISSING' });
  });
});

describe('policies that require a binding (request.auth.binding)', () => {
  const dpopRequest = async (path: string, token = dpopBound): Promise<AnyRequest> => ({
    path, headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', requestUrl({ path }), token) },
  });
  const mtlsRequest = (path: string): AnyRequest => ({ ...bearerOf(certBound, path), peerCertificate: urlPem(certs.client.cert) });

  it('values [dpop]: denies a bearer token and a certificate-bound one, allows a DPoP-bound one', async () => {
    const denied = await checkVia('grpc', plain, bearerOf(bearer, '/dpop-only/x'));
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="http://app.example.com/dpop-only/x", error="insufficient_scope"');
    expect(lastAudit(plain)).toMatchObject({ reason: 'no_allow_match' });
    expect((await checkVia('grpc', plain, mtlsRequest('/dpop-only/x'))).status).toBe(403);
    expect((await checkVia('grpc', plain, { path: '/dpop-only/x' })).status).toBe(403);
    const allowed = await checkVia('grpc', plain, await dpopRequest('/dpop-only/x'));
    expect(allowed.status).toBe(200);
    // A DPoP-presented token that the policy refuses is challenged with the DPoP scheme.
    const refused = await checkVia('grpc', plain, await dpopRequest('/mtls-only/x'));
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toBe('DPoP realm="http://app.example.com/mtls-only/x", error="insufficient_scope"');
  });

  it.each(TRANSPORTS.filter((t) => t !== 'grpc'))('values [dpop] over %s', async (mode) => {
    expect((await checkVia(mode, plain, bearerOf(bearer, '/dpop-only/x'))).status).toBe(403);
    expect((await checkVia(mode, plain, await dpopRequest('/dpop-only/x'))).status).toBe(200);
  });

  it('values [mtls], notValues [none] and values [none]', async () => {
    expect((await checkVia('grpc', plain, mtlsRequest('/mtls-only/x'))).status).toBe(200);
    expect((await checkVia('grpc', plain, bearerOf(bearer, '/mtls-only/x'))).status).toBe(403);
    expect((await checkVia('grpc', plain, mtlsRequest('/bound/x'))).status).toBe(200);
    expect((await checkVia('grpc', plain, await dpopRequest('/bound/x'))).status).toBe(200);
    expect((await checkVia('grpc', plain, bearerOf(bearer, '/bound/x'))).status).toBe(403);
    expect((await checkVia('grpc', plain, bearerOf(bearer, '/bearer/x'))).status).toBe(200);
    expect((await checkVia('grpc', plain, mtlsRequest('/bearer/x'))).status).toBe(403);
    // Without a token there is no request.auth.binding: values fail, notValues pass (as for every request.auth key).
    expect((await checkVia('grpc', plain, { path: '/bearer/x' })).status).toBe(403);
    expect((await checkVia('grpc', plain, { path: '/bound/x' })).status).toBe(200);
  });

  it('refuses a value that is not a binding when the policies load, naming it', async () => {
    const bad = policies(JSON.stringify(jwksOf(issuerKey)));
    bad['authz.yaml'] = bad['authz.yaml']!.replace('values: [dpop] }', 'values: [dpop, strong] }');
    await expect(startFilterFixture(bad)).rejects.toThrow(/when\[0\].*"strong" is not a binding: use mtls, dpop or none/);
  });

  describe('idgate validate', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'idgate-binding-validate-'));
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    async function validate(values: string): Promise<{ status: number; out: string }> {
      const file = join(dir, `policy-${values.replace(/\W/g, '')}.yaml`);
      await writeFile(file, `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: bound, namespace: default }
spec:
  rules:
  - when: [{ key: request.auth.binding, values: [${values}] }]
`);
      let out = '';
      const status = await runValidateCommand(['--offline', file], { stdout: (s) => (out += s), stderr: (s) => (out += s) });
      return { status, out };
    }

    it('accepts request.auth.binding with mtls, dpop and none', async () => {
      const result = await validate('mtls, dpop, none');
      expect(result.out).not.toContain('request.auth.binding');
      expect(result.status).not.toBe(1);
    });

    it('reports any other value as an error', async () => {
      const result = await validate('dpop, mTLS');
      expect(result.status).toBe(1);
      expect(result.out).toContain('"mTLS" is not a binding: use mtls, dpop or none');
    });
  });
});
