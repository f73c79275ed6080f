/**
 * The verified-token cache stays valid with bound tokens: the access token's signature is verified
 * until the cache admits it (on its second verification: token-cache.ts), its binding on every request.
 * Counted at node:crypto's verify (the filter's default signature path): the first two DPoP requests
 * verify the token and the proof (two each), every later one only its new proof (one); a
 * certificate-bound token verifies nothing after its first two requests, yet each request's
 * certificate is still compared.
 */
import type * as crypto from 'node:crypto';
import { verify } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckInput } from '../../src/authz/check-input.js';
import { certificateThumbprint, dpopKey, dpopProof, type DpopKey } from './helpers/dpop.js';
import { makeCertificates, type TestCertificates } from '../admin/api/certs.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, default: actual, verify: vi.fn(actual.verify) };
});

const ISS = 'https://issuer.example';
const ORDERS_URL = 'https://shop.example.com/api/orders';

let issuerKey: TestKey;
let key: DpopKey;
let certs: TestCertificates;
let fixture: FilterFixture;

beforeAll(async () => {
  issuerKey = await testKey('k1', 'ES256');
  key = await dpopKey('ES256');
  certs = await makeCertificates();
  fixture = await startFilterFixture({
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules: [{ issuer: "${ISS}", jwks: ${JSON.stringify(JSON.stringify(jwksOf(issuerKey)))} }]
`,
  }, { grpc: undefined, http: undefined });
});

afterAll(async () => {
  await fixture?.close();
  await certs?.remove();
});

beforeEach(() => {
  vi.mocked(verify).mockClear(); // a block: a function returned from beforeEach would run as a teardown
});

function input(headers: Record<string, string>, extra: Partial<CheckInput> = {}): CheckInput {
  return { transport: 'grpc', requestId: 'r', method: 'GET', host: 'shop.example.com', path: '/api/orders', scheme: 'https', headers, ...extra };
}

describe('signature verifications per request', () => {
  it('a DPoP-bound token: token and proof on the first two requests, only the proof afterwards', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'alice', cnf: { jkt: key.jkt } });
    for (let i = 0; i < 2; i++) {
      vi.mocked(verify).mockClear();
      const first = await fixture.filter.check(input({ authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', ORDERS_URL, token) }));
      expect(first.decision).toBe('allow');
      expect(vi.mocked(verify)).toHaveBeenCalledTimes(2);
    }
    for (let i = 0; i < 3; i++) {
      vi.mocked(verify).mockClear();
      const next = await fixture.filter.check(input({ authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', ORDERS_URL, token) }));
      expect(next.decision).toBe('allow');
      expect(vi.mocked(verify)).toHaveBeenCalledTimes(1);
    }
    // A cached token with a proof for another request: the proof is checked (and refused) before any signature.
    vi.mocked(verify).mockClear();
    const refused = await fixture.filter.check(input({ authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'POST', ORDERS_URL, token) }));
    expect(refused).toMatchObject({ status: 401, jwtError: 'ERR_DPOP_PROOF_HTM' });
    expect(vi.mocked(verify)).not.toHaveBeenCalled();
  });

  it('a certificate-bound token: two verifications in all, the certificate compared on every request', async () => {
    const token = await mint(issuerKey, { iss: ISS, sub: 'svc', cnf: { 'x5t#S256': certificateThumbprint(certs.client.cert) } });
    const right = { peerCertificate: { urlEncodedPem: encodeURIComponent(certs.client.cert.toString()) } };
    expect((await fixture.filter.check(input({ authorization: `Bearer ${token}` }, right))).decision).toBe('allow');
    expect((await fixture.filter.check(input({ authorization: `Bearer ${token}` }, right))).decision).toBe('allow');
    expect(vi.mocked(verify)).toHaveBeenCalledTimes(2);
    vi.mocked(verify).mockClear();
    expect((await fixture.filter.check(input({ authorization: `Bearer ${token}` }, right))).decision).toBe('allow');
    const wrong = await fixture.filter.check(input({ authorization: `Bearer ${token}` }, { peerCertificate: { urlEncodedPem: encodeURIComponent(certs.untrusted.cert.toString()) } }));
    expect(wrong).toMatchObject({ status: 401, jwtError: 'ERR_CERTIFICATE_MISMATCH' });
    expect(vi.mocked(verify)).not.toHaveBeenCalled();
  });
});
