/**
 * The decision table (fixtures/decision-cases.ts) run through the gRPC ext_authz transport with a
 * grpc-js client built from the repo's protos, and the HTTP-safe share through Envoy HTTP, nginx and
 * Traefik modes: every rule of Istio's RequestAuthentication, AuthorizationPolicy, PeerAuthentication
 * and idgate's native RBAC, each with its negative case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_CASES, type DecisionCase, type TokenName } from './fixtures/decision-cases.js';
import { decisionPolicies } from './fixtures/decision-policies.js';
import { ExtAuthzClient, outcomeOf, type EnvoyRequest } from './helpers/grpc-client.js';
import { startFilterFixture, tableJwks, tableKeys, tableTokens, type FilterFixture } from './helpers/filter-fixture.js';
import { httpCheck, type HttpMode } from './helpers/http-client.js';

let fixture: FilterFixture;
let client: ExtAuthzClient;
let tokens: Record<TokenName, string>;

beforeAll(async () => {
  const keys = await tableKeys();
  const { jwksA, jwksB } = tableJwks(keys);
  tokens = await tableTokens(keys);
  fixture = await startFilterFixture(decisionPolicies(jwksA, jwksB), { defaultWorkload: { namespace: 'default' } });
  client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await fixture?.close();
});

function withToken(testCase: DecisionCase): EnvoyRequest {
  const request = { ...testCase.request, headers: { ...(testCase.request.headers ?? {}) } };
  if (testCase.token === 'issuerB' || testCase.token === 'issuerBWrongAud') request.headers['x-jwt-b'] = `Token ${tokens[testCase.token]}`;
  else if (testCase.token) request.headers.authorization = `Bearer ${tokens[testCase.token]}`;
  return request;
}

describe('decision table over gRPC ext_authz', () => {
  it('has at least 100 cases', () => {
    expect(DECISION_CASES.length).toBeGreaterThanOrEqual(100);
  });

  it.each(DECISION_CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const outcome = outcomeOf(await client.check(withToken(testCase)));
    expect(outcome.status).toBe(testCase.expect.status);
    expect(outcome.grpcCode).toBe(testCase.expect.status === 200 ? 0 : testCase.expect.status === 401 ? 16 : 7);
    for (const [name, value] of Object.entries(testCase.expect.headers ?? {})) expect(outcome.headers[name]).toBe(value);
    if (testCase.expect.status === 401) expect(outcome.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/.+", error="invalid_token"$/);
    if (testCase.expect.reason || testCase.expect.policy) {
      const line = JSON.parse(fixture.audit[fixture.audit.length - 1]!) as { reason: string; policy?: string };
      if (testCase.expect.reason) expect(line.reason).toBe(testCase.expect.reason);
      if (testCase.expect.policy) expect(line.policy).toBe(testCase.expect.policy);
    }
  });
});

const HTTP_CASES = DECISION_CASES.filter((c) => c.http);
const MODES: HttpMode[] = ['envoy-http', 'nginx', 'traefik'];

describe.each(MODES)('decision table over HTTP mode %s', (mode) => {
  // Envoy HTTP ext_authz carries no context_extensions: only default-workload cases apply there.
  const cases = HTTP_CASES.filter((c) => mode !== 'envoy-http' || (!c.request.namespace && c.request.labels === undefined));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const outcome = await httpCheck(fixture.filter.httpPort!, mode, withToken(testCase));
    expect(outcome.status).toBe(testCase.expect.status);
    for (const [name, value] of Object.entries(testCase.expect.headers ?? {})) expect(outcome.headers[name]).toBe(value);
    if (testCase.expect.status !== 200) expect(outcome.body.length).toBeGreaterThan(0);
    if (testCase.expect.status === 401) expect(outcome.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
