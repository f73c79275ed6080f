/**
 * `idgate authz explain` runs serve's pipeline: for the same policies, filter config and request it
 * gives the status, reason and JWT error a running filter gives over gRPC (tokens really verified, with
 * inline, jwksUri and discovered keys); `--claims` checks everything that needs no signature and never
 * touches the network; `--config`, `--path-normalization`, `--escaped-slashes` and `--mode` change its
 * answer as they change serve's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuthzCommand } from '../../src/authz/cli.js';
import type { FilterConfigInput } from '../../src/authz/config.js';
import type { Explanation } from '../../src/authz/explain.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, outcomeOf, type EnvoyRequest } from './helpers/grpc-client.js';
import { httpCheck } from './helpers/http-client.js';
import { JwksServer } from './helpers/jwks-server.js';
import { jwksOf, mint, tamper, testKey, type TestKey } from './helpers/tokens.js';

const ISS = 'https://issuer.example';
const MESH_ISS = 'https://mesh.example';
const SOURCE_IP = '10.10.0.5';

let key: TestKey;
let meshKey: TestKey;
let uriKey: TestKey;
let discoveryKey: TestKey;
let byUri: JwksServer;
let byDiscovery: JwksServer;
let fixture: FilterFixture;
let client: ExtAuthzClient;
let work: string;
let configFile: string;

/** The filter section both serve and explain run with (explain reads it from an idgate config file). */
const filterConfig = (): Partial<FilterConfigInput> => ({
  defaultWorkload: { namespace: 'shop', labels: {} },
  pathWithEscapedSlashesAction: 'REJECT_REQUEST',
  numTrustedProxies: 1,
  jwtRules: [{ issuer: MESH_ISS, audiences: ['mesh-api'], jwks: JSON.stringify(jwksOf(meshKey)) }],
});

function policies(): Record<string, string> {
  const jwks = JSON.stringify(JSON.stringify(jwksOf(key)));
  return {
    'authn.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: shop }
spec:
  jwtRules:
  - issuer: ${ISS}
    audiences: [api]
    jwks: ${jwks}
  - issuer: ${ISS}
    audiences: [api]
    jwks: ${jwks}
    fromHeaders: [{ name: x-jwt }]
  - issuer: ${byUri.issuer}
    jwksUri: ${byUri.jwksUri}
  - issuer: ${byDiscovery.issuer}
`,
    'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: shop }
spec:
  rules:
  - from: [{ source: { requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/api/*"] } }]
  - to: [{ operation: { paths: ["/public/*"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-admin, namespace: shop }
spec:
  action: DENY
  rules:
  - to: [{ operation: { paths: ["/admin/*"] } }]
  - from: [{ source: { remoteIpBlocks: ["203.0.113.0/24"] } }]
`,
  };
}

const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) } };
};

/** explain through the CLI, as a user runs it, with the same config file serve uses. */
async function explain(args: string[]): Promise<Explanation> {
  const { out, err, io } = capture();
  const code = await runAuthzCommand(['explain', '--config', configFile, '--source-ip', SOURCE_IP, '--json', ...args], io);
  expect(code, err.join('')).toBe(0);
  return JSON.parse(out.join('')) as Explanation;
}

async function explainText(args: string[]): Promise<string> {
  const { out, err, io } = capture();
  const code = await runAuthzCommand(['explain', '--config', configFile, '--source-ip', SOURCE_IP, ...args], io);
  expect(code, err.join('')).toBe(0);
  return out.join('');
}

let requests = 0;
/** The running filter's answer over gRPC, with the reason and JWT error from its audit line. */
async function serve(request: EnvoyRequest): Promise<{ status: number; reason: string; jwtError?: string; body: string }> {
  const requestId = `explain-parity-${++requests}`;
  const outcome = outcomeOf(await client.check({ sourceIp: SOURCE_IP, ...request, requestId }));
  const line = fixture.audit.map((l) => JSON.parse(l) as { requestId: string; reason: string; jwtError?: string }).find((l) => l.requestId === requestId);
  expect(line, 'audit line').toBeDefined();
  return { status: outcome.status, reason: line!.reason, body: outcome.body, ...(line!.jwtError ? { jwtError: line!.jwtError } : {}) };
}

function decided(e: Explanation): { status: number; reason: string; jwtError?: string; body: string } {
  return { status: e.result.status, reason: e.result.reason, body: e.result.body, ...(e.result.jwtError ? { jwtError: e.result.jwtError } : {}) };
}

/** The same request to the running filter and to explain: they must decide alike. */
async function bothDecide(request: EnvoyRequest, args: string[]): Promise<{ served: Awaited<ReturnType<typeof serve>>; explained: Explanation }> {
  const served = await serve(request);
  const explained = await explain(args);
  expect(decided(explained)).toEqual(served);
  return { served, explained };
}

beforeAll(async () => {
  key = await testKey('k1');
  meshKey = await testKey('mesh');
  uriKey = await testKey('uri-1');
  discoveryKey = await testKey('disc-1');
  byUri = new JwksServer(jwksOf(uriKey));
  byDiscovery = new JwksServer(jwksOf(discoveryKey));
  await byUri.start();
  await byDiscovery.start();
  fixture = await startFilterFixture(policies(), filterConfig());
  client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
  work = await mkdtemp(join(tmpdir(), 'idgate-explain-'));
  configFile = join(work, 'idgate.yaml');
  await writeFile(configFile, JSON.stringify({ issuer: 'http://127.0.0.1:5556/dex', storage: { type: 'memory' }, filter: { ...filterConfig(), policies: [fixture.dir] } }));
});

afterAll(async () => {
  client.close();
  await fixture.close();
  await byUri.stop();
  await byDiscovery.stop();
  await rm(work, { recursive: true, force: true });
});

describe('explain decides as a running filter does', () => {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('allows a valid token, verified with the inline jwks', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', aud: 'api' });
    const { served, explained } = await bothDecide({ path: '/api/orders', headers: bearer(token) }, ['--path', '/api/orders', '--token', token]);
    expect(served).toMatchObject({ status: 200, reason: 'allowed' });
    expect(explained.token).toEqual({ outcome: 'verified', issuer: ISS, jwtRule: 'shop/jwt[0]', location: 'header authorization (prefix "Bearer")' });
    expect(explained.claimsAssumed).toBe(false);
    expect(explained.requestPrincipal).toBe(`${ISS}/alice`);
  });

  it('refuses an expired token with 401 ERR_JWT_EXPIRED', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', aud: 'api' }, { expiresIn: -120 });
    const { served, explained } = await bothDecide({ path: '/api/orders', headers: bearer(token) }, ['--path', '/api/orders', '--token', token]);
    expect(served).toEqual({ status: 401, reason: 'jwt_invalid', jwtError: 'ERR_JWT_EXPIRED', body: 'Jwt is expired' });
    expect(explained.token).toMatchObject({ outcome: 'failed', code: 'ERR_JWT_EXPIRED' });
    expect(explained.evaluated).toBe(false);
  });

  it('refuses a wrong audience with 403 ERR_JWT_AUDIENCE', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', aud: 'other' });
    const { served } = await bothDecide({ path: '/api/orders', headers: bearer(token) }, ['--path', '/api/orders', '--token', token]);
    expect(served).toEqual({ status: 403, reason: 'jwt_audience', jwtError: 'ERR_JWT_AUDIENCE', body: 'Audiences in Jwt are not allowed' });
  });

  it('refuses a bad signature with 401 ERR_JWT_SIGNATURE', async () => {
    const token = tamper(await mint(key, { iss: ISS, sub: 'alice', aud: 'api' }), { iss: ISS, sub: 'root', aud: 'api', exp: Math.floor(Date.now() / 1000) + 600 });
    const { served } = await bothDecide({ path: '/api/orders', headers: bearer(token) }, ['--path', '/api/orders', '--token', token]);
    expect(served).toEqual({ status: 401, reason: 'jwt_invalid', jwtError: 'ERR_JWT_SIGNATURE', body: 'Jwt verification fails' });
  });

  it('refuses an unknown issuer with 401 ERR_JWT_ISSUER_NOT_CONFIGURED', async () => {
    const token = await mint(key, { iss: 'https://nobody.example', sub: 'x', aud: 'api' });
    const { served } = await bothDecide({ path: '/api/orders', headers: bearer(token) }, ['--path', '/api/orders', '--token', token]);
    expect(served).toEqual({ status: 401, reason: 'jwt_invalid', jwtError: 'ERR_JWT_ISSUER_NOT_CONFIGURED', body: 'Jwt issuer is not configured' });
  });

  it('denies a request without a token under the require-JWT policy', async () => {
    const { served, explained } = await bothDecide({ path: '/api/orders' }, ['--path', '/api/orders']);
    expect(served).toEqual({ status: 403, reason: 'no_allow_match', body: 'RBAC: access denied' });
    expect(explained.token).toEqual({ outcome: 'none', jwtRules: 5 });
  });

  it('denies a path that normalizes into a denied prefix, and shows the normalized path', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', aud: 'api' });
    const { served, explained } = await bothDecide({ path: '/api/../admin/users', headers: bearer(token) }, ['--path', '/api/../admin/users', '--token', token]);
    expect(served).toEqual({ status: 403, reason: 'denied_by_policy', body: 'RBAC: access denied' });
    expect(explained).toMatchObject({ path: '/api/../admin/users', normalizedPath: '/admin/users', result: { policy: 'shop/no-admin', rule: 0 } });
    expect(await explainText(['--path', '/api/../admin/users', '--token', token])).toContain('path: /api/../admin/users -> /admin/users');
  });

  it('refuses an invalid path with 400 invalid_path (pathWithEscapedSlashesAction REJECT_REQUEST)', async () => {
    const { served, explained } = await bothDecide({ path: '/api%2F..%2Fadmin/users' }, ['--path', '/api%2F..%2Fadmin/users']);
    expect(served).toMatchObject({ status: 400, reason: 'invalid_path' });
    expect(explained.normalizedPath).toBeUndefined();
    expect(explained.token).toEqual({ outcome: 'not-checked' });
    const text = await explainText(['--path', '/api%2F..%2Fadmin/users']);
    expect(text).toContain('decision: DENY (400) reason=invalid_path');
    expect(text).toContain('path: /api%2F..%2Fadmin/users -> (refused)');
  });

  it('verifies a token where the jwtRule reads it (fromHeaders), given with --header', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', aud: 'api' });
    const { served, explained } = await bothDecide({ path: '/api/orders', headers: { 'x-jwt': token } }, ['--path', '/api/orders', '--header', `x-jwt: ${token}`]);
    expect(served).toMatchObject({ status: 200, reason: 'allowed' });
    expect(explained.token).toMatchObject({ outcome: 'verified', jwtRule: 'shop/jwt[1]', location: 'header x-jwt' });
  });

  it('verifies with keys from jwksUri and from discovery, and refuses a key they do not hold', async () => {
    const uriToken = await mint(uriKey, { iss: byUri.issuer, sub: 'svc' });
    const viaUri = await bothDecide({ path: '/api/x', headers: bearer(uriToken) }, ['--path', '/api/x', '--token', uriToken]);
    expect(viaUri.served).toMatchObject({ status: 200, reason: 'allowed' });
    expect(viaUri.explained.token).toMatchObject({ outcome: 'verified', jwtRule: 'shop/jwt[2]' });
    const discoveryToken = await mint(discoveryKey, { iss: byDiscovery.issuer, sub: 'svc' });
    const viaDiscovery = await bothDecide({ path: '/api/x', headers: bearer(discoveryToken) }, ['--path', '/api/x', '--token', discoveryToken]);
    expect(viaDiscovery.served).toMatchObject({ status: 200, reason: 'allowed' });
    const foreign = await mint(await testKey('uri-1'), { iss: byUri.issuer, sub: 'svc' });
    const { served } = await bothDecide({ path: '/api/x', headers: bearer(foreign) }, ['--path', '/api/x', '--token', foreign]);
    expect(served).toMatchObject({ status: 401, reason: 'jwt_invalid', jwtError: 'ERR_JWT_SIGNATURE' });
  });

  it('uses the config\'s filter.jwtRules', async () => {
    const token = await mint(meshKey, { iss: MESH_ISS, sub: 'm', aud: 'mesh-api' });
    const { served, explained } = await bothDecide({ path: '/api/x', headers: bearer(token) }, ['--path', '/api/x', '--token', token]);
    expect(served).toMatchObject({ status: 200, reason: 'allowed' });
    expect(explained.token).toMatchObject({ outcome: 'verified', jwtRule: 'filter.jwtRules[0]' });
  });

  it('derives remote.ip from X-Forwarded-For with the config\'s numTrustedProxies', async () => {
    const headers = { 'x-forwarded-for': `203.0.113.7, ${SOURCE_IP}` };
    const { served, explained } = await bothDecide({ path: '/public/x', headers }, ['--path', '/public/x', '--header', `x-forwarded-for: ${headers['x-forwarded-for']}`]);
    expect(served).toMatchObject({ status: 403, reason: 'denied_by_policy' });
    expect(explained.result).toMatchObject({ policy: 'shop/no-admin', rule: 1 });
  });

  it('decides as nginx does with --mode nginx', async () => {
    const token = await mint(key, { iss: ISS, sub: 'alice', aud: 'api' });
    const statuses = [];
    for (const path of ['/api/orders', '/admin/users']) {
      const served = await httpCheck(fixture.filter.httpPort!, 'nginx', { path, namespace: 'shop', headers: bearer(token) });
      const explained = await explain(['--mode', 'nginx', '--path', path, '--token', token]);
      expect(explained.transport).toBe('nginx');
      expect(explained.result.status).toBe(served.status);
      statuses.push(served.status);
    }
    expect(statuses).toEqual([200, 403]);
    expect((await explain(['--mode', 'nginx', '--path', '/admin/users'])).result).toMatchObject({ status: 403, reason: 'denied_by_policy' });
    expect(await explainText(['--mode', 'nginx', '--path', '/public/x'])).toContain('transport=nginx (raw request target)');
  });
});

describe('explain --claims', () => {
  const claims = (c: Record<string, unknown>) => ['--path', '/api/orders', '--claims', JSON.stringify(c)];
  const nowSec = () => Math.floor(Date.now() / 1000);

  it('allows claims a valid token would carry, and says the signature was not verified', async () => {
    const explained = await explain(claims({ iss: ISS, sub: 'alice', aud: 'api' }));
    expect(decided(explained)).toMatchObject({ status: 200, reason: 'allowed' });
    expect(explained).toMatchObject({ claimsAssumed: true, requestPrincipal: `${ISS}/alice`, token: { outcome: 'assumed', issuer: ISS, jwtRule: 'shop/jwt[0]' } });
    const text = await explainText(claims({ iss: ISS, sub: 'alice', aud: 'api' }));
    expect(text).toContain('token: claims assumed, signature NOT verified');
    expect(text).toContain('note: --claims: the token signature was NOT verified');
  });

  it('answers as serve answers the token with those claims (but for the signature)', async () => {
    const cases: Array<Record<string, unknown>> = [
      { iss: ISS, sub: 'alice', aud: 'api', exp: nowSec() - 120 },
      { iss: ISS, sub: 'alice', aud: 'other' },
      { iss: 'https://nobody.example', sub: 'x', aud: 'api' },
      { iss: ISS, sub: 'alice', aud: 'api', nbf: nowSec() + 300 },
    ];
    const outcomes = [];
    for (const c of cases) {
      const token = await mint(key, c, c.exp !== undefined ? { expiresIn: (c.exp as number) - nowSec() } : {});
      const served = await serve({ path: '/api/orders', headers: { authorization: `Bearer ${token}` } });
      const explained = decided(await explain(claims(c)));
      expect(explained).toEqual(served);
      outcomes.push(`${served.status} ${served.jwtError}`);
    }
    expect(outcomes).toEqual(['401 ERR_JWT_EXPIRED', '403 ERR_JWT_AUDIENCE', '401 ERR_JWT_ISSUER_NOT_CONFIGURED', '401 ERR_JWT_NOT_YET_VALID']);
  });

  it('refuses claims without an iss: no jwtRule is configured for them', async () => {
    expect(decided(await explain(claims({ sub: 'alice', aud: 'api' })))).toEqual({ status: 401, reason: 'jwt_invalid', jwtError: 'ERR_JWT_ISSUER_NOT_CONFIGURED', body: 'Jwt issuer is not configured' });
  });

  it('applies the clock skew: exp 30 s ago is still valid with the default 60 s', async () => {
    expect(decided(await explain(claims({ iss: ISS, sub: 'alice', aud: 'api', exp: nowSec() - 30 })))).toMatchObject({ status: 200, reason: 'allowed' });
  });

  it('never fetches keys: jwksUri and discovery issuers are not contacted', async () => {
    const before = { uri: byUri.fetches, discovery: byDiscovery.fetches };
    const viaUri = await explain(claims({ iss: byUri.issuer, sub: 'svc' }));
    expect(viaUri).toMatchObject({ result: { status: 200, reason: 'allowed' }, token: { outcome: 'assumed', jwtRule: 'shop/jwt[2]' } });
    expect(decided(await explain(claims({ iss: byDiscovery.issuer, sub: 'svc' })))).toMatchObject({ status: 200, reason: 'allowed' });
    expect({ uri: byUri.fetches, discovery: byDiscovery.fetches }).toEqual(before);
  });

  it('ignores the claims when no jwtRules apply to the workload, as serve ignores a token', async () => {
    const { out, err, io } = capture();
    const code = await runAuthzCommand(['explain', '--policies', fixture.dir, '--namespace', 'elsewhere', '--json', '--claims', JSON.stringify({ iss: ISS, sub: 'alice' })], io);
    expect(code, err.join('')).toBe(0);
    const explained = JSON.parse(out.join('')) as Explanation;
    expect(explained.token).toEqual({ outcome: 'none', jwtRules: 0 });
    expect(explained.requestPrincipal).toBeUndefined();
  });
});

describe('explain takes the options that change serve\'s decision', () => {
  let otherConfig: string;

  beforeAll(async () => {
    // A co-located issuer (web.http), no clock skew, 401 challenges for anonymous requests.
    otherConfig = join(work, 'other.yaml');
    await writeFile(otherConfig, JSON.stringify({
      issuer: 'http://127.0.0.1:5556/dex', storage: { type: 'memory' }, web: { http: '127.0.0.1:5556' },
      filter: { policies: [fixture.dir], defaultWorkload: { namespace: 'shop' }, clockSkew: '0s', challengeAnonymous: true },
    }));
  });

  const run = async (args: string[]) => {
    const { out, err, io } = capture();
    const code = await runAuthzCommand(['explain', ...args], io);
    return { code, out: out.join(''), err: err.join('') };
  };
  const explainWith = async (args: string[]) => {
    const result = await run([...args, '--json']);
    expect(result.code, result.err).toBe(0);
    return JSON.parse(result.out) as Explanation;
  };

  it('--path-normalization overrides the config (MERGE_SLASHES brings //admin//users under the DENY)', async () => {
    expect((await explain(['--path', '//admin//users'])).result).toMatchObject({ status: 403, reason: 'no_allow_match' });
    const merged = await explain(['--path', '//admin//users', '--path-normalization', 'MERGE_SLASHES']);
    expect(merged).toMatchObject({ normalizedPath: '/admin/users', result: { status: 403, reason: 'denied_by_policy', policy: 'shop/no-admin' } });
  });

  it('--escaped-slashes overrides the config\'s REJECT_REQUEST', async () => {
    expect((await explain(['--path', '/public%2Fx'])).result).toMatchObject({ status: 400, reason: 'invalid_path' });
    const unescaped = await explain(['--path', '/public%2Fx', '--escaped-slashes', 'UNESCAPE_AND_FORWARD']);
    expect(unescaped).toMatchObject({ normalizedPath: '/public/x', result: { status: 200, reason: 'allowed' } });
  });

  it('takes clockSkew and challengeAnonymous from the config', async () => {
    const c = JSON.stringify({ iss: ISS, sub: 'alice', aud: 'api', exp: Math.floor(Date.now() / 1000) - 30 });
    expect((await explainWith(['--config', otherConfig, '--path', '/api/x', '--claims', c])).result).toMatchObject({ status: 401, jwtError: 'ERR_JWT_EXPIRED' });
    expect((await explainWith(['--config', otherConfig, '--path', '/api/x'])).result).toMatchObject({ status: 401, reason: 'no_allow_match', body: 'Jwt is missing' });
  });

  it('knows the co-located issuer\'s jwtRule when the config runs one', async () => {
    const explained = await explainWith(['--config', otherConfig, '--path', '/api/x', '--claims', JSON.stringify({ iss: 'http://127.0.0.1:5556/dex', sub: 'u' })]);
    expect(explained).toMatchObject({ result: { status: 200, reason: 'allowed' }, token: { outcome: 'assumed', jwtRule: 'issuer' } });
  });

  it('refuses bad flags with exit 2 and a reason', async () => {
    expect(await run(['--config', configFile, '--path-normalization', 'SIDEWAYS'])).toMatchObject({ code: 2, err: expect.stringContaining('--path-normalization "SIDEWAYS"') });
    expect(await run(['--config', configFile, '--escaped-slashes', 'EAT'])).toMatchObject({ code: 2, err: expect.stringContaining('--escaped-slashes "EAT"') });
    expect(await run(['--config', configFile, '--mode', 'apache'])).toMatchObject({ code: 2, err: expect.stringContaining('--mode "apache": use one of grpc, envoy-http, nginx, traefik') });
    expect(await run(['--config', configFile, '--token', 'a.b.c', '--claims', '{}'])).toMatchObject({ code: 2, err: expect.stringContaining('give --token or --claims, not both') });
    expect(await run(['--config', configFile, '--token', 'a.b.c', '--header', 'authorization: Bearer x.y.z'])).toMatchObject({ code: 2, err: expect.stringContaining('give the token once') });
    expect(await run(['--config', configFile, '--claims', '[1]'])).toMatchObject({ code: 2, err: expect.stringContaining('--claims: give a JSON object') });
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringContaining('--policies PATH (or --config with filter.policies) is required') });
  });

  it('refuses a config without a filter: section', async () => {
    const bare = join(work, 'bare.yaml');
    await writeFile(bare, JSON.stringify({ issuer: 'http://127.0.0.1:5556/dex', storage: { type: 'memory' }, web: { http: '127.0.0.1:5556' } }));
    expect(await run(['--config', bare])).toMatchObject({ code: 2, err: expect.stringContaining('has no filter: section') });
  });
});
