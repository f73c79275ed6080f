/**
 * The allow response of a cached token is encoded once and reused (transport/grpc-response.ts over
 * upstream-mutation-memo.ts). These specify that the reuse never changes an answer: each token gets
 * its own identity, per-request inputs (spoofed identity headers, the peer) still count, a policy
 * reload takes effect at once, and a revoked token is denied even after its allow was cached.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilterConfig } from '../../src/authz/config.js';
import { startFilter, type RunningFilter } from '../../src/authz/index.js';
import { RevocationList } from '../../src/authz/revocations.js';
import { CheckResponseEncoder } from '../../src/authz/transport/grpc-response.js';
import type { CheckResult } from '../../src/authz/check-input.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { subjectKey } from '../../src/storage/storage.js';
import { writePolicies } from './helpers/filter-fixture.js';
import { ExtAuthzClient, outcomeOf } from './helpers/grpc-client.js';
import { jwksOf, mint, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
let key: TestKey;
let dir: string;
let filter: RunningFilter;
let client: ExtAuthzClient;
const revoked = new RevocationList();

function policyFiles(jwks: string, claimHeader: string) {
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: istio-system }
spec:
  jwtRules:
  - issuer: ${ISS}
    jwks: ${JSON.stringify(jwks)}
    outputClaimToHeaders: [{ header: ${claimHeader}, claim: email }]
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: web, namespace: default }
spec:
  rules: [{ from: [{ source: { requestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/api/*"] } }] }]
`,
  };
}

beforeAll(async () => {
  key = await testKey('k1');
  dir = await writePolicies(policyFiles(JSON.stringify(jwksOf(key)), 'x-email'));
  filter = await startFilter({
    config: parseFilterConfig({ grpc: '127.0.0.1:0', policies: [dir], watch: false, audit: { enabled: false } }),
    logger: silentLogger(),
    registry: new Registry(),
    revocations: revoked,
  });
  client = new ExtAuthzClient(`127.0.0.1:${filter.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await filter?.close();
  await rm(dir, { recursive: true, force: true });
});

const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });

describe('cached allow responses over gRPC', () => {
  it('answers each token with its own identity, requests interleaved', async () => {
    const tokens = await Promise.all(['alice', 'bob', 'carol'].map((sub) => mint(key, { iss: ISS, sub, email: `${sub}@example.com` })));
    for (let round = 0; round < 3; round++) {
      const outcomes = await Promise.all(tokens.map(async (token) => outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) }))));
      expect(outcomes.map((o) => [o.status, o.headers['x-idgate-subject'], o.headers['x-email'], o.headers['x-idgate-request-principal']])).toEqual([
        [200, 'alice', 'alice@example.com', `${ISS}/alice`],
        [200, 'bob', 'bob@example.com', `${ISS}/bob`],
        [200, 'carol', 'carol@example.com', `${ISS}/carol`],
      ]);
    }
  });

  it('strips a spoofed identity header on the request that sent it, and only there', async () => {
    const token = await mint(key, { iss: ISS, sub: 'dave' });
    const plain = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) }));
    const spoofed = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token, { 'x-idgate-role': 'admin' }) }));
    const again = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) }));
    expect(plain.removed).toEqual(['authorization']);
    expect(spoofed.removed).toEqual(['authorization', 'x-idgate-role']);
    expect(again.removed).toEqual(['authorization']);
  });

  it("answers the same token from another peer with that peer's identity", async () => {
    const token = await mint(key, { iss: ISS, sub: 'erin' });
    const web = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token), peer: 'spiffe://cluster.local/ns/frontend/sa/web' }));
    const batch = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token), peer: 'spiffe://cluster.local/ns/jobs/sa/batch' }));
    const none = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) }));
    expect([web.headers['x-idgate-peer-principal'], batch.headers['x-idgate-peer-principal'], none.headers['x-idgate-peer-principal']])
      .toEqual(['cluster.local/ns/frontend/sa/web', 'cluster.local/ns/jobs/sa/batch', undefined]);
    expect(batch.headers['x-idgate-subject']).toBe('erin');
  });

  it('denies a token revoked by sid, jti or subject after its allow response was cached', async () => {
    const bySid = await mint(key, { iss: ISS, sub: 'frank', sid: 'cache-session', jti: 'cache-a' });
    const byJti = await mint(key, { iss: ISS, sub: 'frank', sid: 'other-session', jti: 'cache-b' });
    const bySubject = await mint(key, { iss: ISS, sub: 'henry', sid: 'henry-session', jti: 'cache-c' });
    for (const token of [bySid, byJti, bySubject, bySid, byJti, bySubject]) expect(outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) })).status).toBe(200);
    revoked.add({ kind: 'sid', value: 'cache-session', expiresAt: Date.now() + 60_000 });
    revoked.add({ kind: 'jti', value: 'cache-b', expiresAt: Date.now() + 60_000 });
    revoked.add({ kind: 'sub', value: subjectKey(ISS, 'henry'), createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    for (const token of [bySid, byJti, bySubject]) {
      const response = await client.check({ path: '/api/x', headers: bearer(token) });
      expect(response.status?.code).toBe(16);
      expect(outcomeOf(response)).toMatchObject({ status: 401, headers: { 'www-authenticate': expect.stringContaining('error="invalid_token"') as unknown } });
    }
  });

  it('takes a policy reload into account at once for a cached token', async () => {
    const token = await mint(key, { iss: ISS, sub: 'grace', email: 'grace@example.com' });
    expect(outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) })).headers['x-email']).toBe('grace@example.com');
    await writeFile(join(dir, 'authn.yaml'), policyFiles(JSON.stringify(jwksOf(key)), 'x-mail')['authn.yaml']);
    await filter.reload();
    try {
      const after = outcomeOf(await client.check({ path: '/api/x', headers: bearer(token) }));
      expect(after.headers['x-mail']).toBe('grace@example.com');
      expect(after.headers['x-email']).toBeUndefined();
    } finally {
      await writeFile(join(dir, 'authn.yaml'), policyFiles(JSON.stringify(jwksOf(key)), 'x-email')['authn.yaml']);
      await filter.reload();
    }
  });
});

describe('CheckResponseEncoder', () => {
  const allow = (headers: CheckResult['headers'], extra: Partial<CheckResult> = {}): CheckResult => ({
    decision: 'allow', status: 200, reason: 'allowed', body: '', headers, headersToRemove: [], queryParametersToRemove: [], ...extra,
  });

  it('reuses bytes only for the same frozen headers with the same other inputs', () => {
    const encoder = new CheckResponseEncoder();
    const headers = Object.freeze([Object.freeze({ name: 'x-idgate-subject', value: 'alice' })]) as CheckResult['headers'];
    const removed = Object.freeze(['authorization']) as string[];
    const none = Object.freeze<string[]>([]) as string[];
    const base: Partial<CheckResult> = { headersToRemove: removed, queryParametersToRemove: none, requestPrincipal: 'i/alice' };
    const first = encoder.encode(allow(headers, base));
    expect(encoder.encode(allow(headers, { ...base }))).toBe(first);
    const variants: Array<[Partial<CheckResult>, string]> = [
      [{ headersToRemove: ['authorization', 'x-idgate-role'] }, 'x-idgate-role'],
      [{ queryParametersToRemove: ['access_token'] }, 'access_token'],
      [{ requestPrincipal: 'i/bob' }, 'i/bob'],
      [{ peerPrincipal: 'td/ns/a/sa/b' }, 'td/ns/a/sa/b'],
    ];
    for (const [variant, marker] of variants) {
      encoder.encode(allow(headers, base)); // cached again
      expect(encoder.encode(allow(headers, { ...base, ...variant })).toString()).toContain(marker);
    }
  });

  it('keeps a cached response in memory of its own, not in a slab of the shared Buffer pool', () => {
    // A kept slice of Buffer.allocUnsafe's 8 KiB pool would keep the whole slab alive for every cached token.
    const encoder = new CheckResponseEncoder();
    const headers = Object.freeze([Object.freeze({ name: 'x-idgate-subject', value: 'alice' })]) as CheckResult['headers'];
    const none = Object.freeze<string[]>([]) as string[];
    const bytes = encoder.encode(allow(headers, { headersToRemove: none, queryParametersToRemove: none }));
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    expect(bytes.toString()).toContain('alice');
  });

  it('never caches headers that are not frozen, nor denials', () => {
    const encoder = new CheckResponseEncoder();
    const headers = [{ name: 'x-idgate-subject', value: 'alice' }];
    const same: Partial<CheckResult> = { headersToRemove: [], queryParametersToRemove: [] };
    encoder.encode(allow(headers, same));
    headers[0]!.value = 'mallory';
    expect(encoder.encode(allow(headers, same)).toString()).toContain('mallory');
    const deny: CheckResult = { ...allow([]), decision: 'deny', status: 403, reason: 'no_allow_match', body: 'RBAC: access denied' };
    expect(encoder.encode(deny)).not.toBe(encoder.encode(deny));
  });
});
