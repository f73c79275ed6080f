/**
 * Where Istio is lenient, so is idgate: the policy set a mesh really holds loads. A CUSTOM policy (the
 * one that sends traffic to idgate) is ignored — the filter decides as if it were not there — and a
 * DENY policy without rules never matches. Both load with a warning (see policy-check.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFilter } from '../../src/authz/index.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { httpCheck } from './helpers/http-client.js';

const policy = (name: string, spec: string, namespace = 'default') =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec:\n${spec}\n`;
/** The policy Istio's docs give for an ext_authz provider, scoped to the workload idgate decides for. */
const CUSTOM = policy('ext-authz', '  action: CUSTOM\n  provider: { name: idgate }\n  rules: [{ to: [{ operation: { paths: ["/custom/*"] } }] }]');
const CUSTOM_MESH = policy('ext-authz-mesh', '  action: CUSTOM\n  provider: { name: idgate }\n  rules: [{}]', 'istio-system');
const WEB = policy('web', '  rules: [{ to: [{ operation: { paths: ["/web/*"] } }] }]');

async function decide(filter: RunningFilter, path: string): Promise<string> {
  const result = await filter.check({ transport: 'grpc', requestId: 'r', method: 'GET', host: 'app.example.com', path, scheme: 'http', headers: {} });
  return `${result.status} ${result.reason}${result.policy ? ` ${result.policy}` : ''}`;
}

let fixture: FilterFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('CUSTOM policies', () => {
  it('load, and the filter decides as if they were not there (no ALLOW policy: allowed)', async () => {
    fixture = await startFilterFixture({ 'mesh.yaml': `${CUSTOM_MESH}---\n${CUSTOM}` });
    expect(await decide(fixture.filter, '/custom/x')).toBe('200 no_allow_policies');
    expect(await decide(fixture.filter, '/other')).toBe('200 no_allow_policies');
  });

  it('never allow what the ALLOW policies do not', async () => {
    fixture = await startFilterFixture({ 'mesh.yaml': `${CUSTOM_MESH}---\n${CUSTOM}`, 'web.yaml': WEB });
    expect(await decide(fixture.filter, '/web/x')).toBe('200 allowed default/web');
    expect(await decide(fixture.filter, '/custom/x')).toBe('403 no_allow_match');
    const http = await httpCheck(fixture.filter.httpPort!, 'envoy-http', { path: '/custom/x' });
    expect(http).toMatchObject({ status: 403, body: 'RBAC: access denied' });
  });
});

describe('a DENY policy without rules', () => {
  it('denies nothing', async () => {
    fixture = await startFilterFixture({
      'deny.yaml': `${policy('deny-nothing', '  action: DENY')}---\n${policy('deny-empty-list', '  action: DENY\n  rules: []')}`,
      'web.yaml': WEB,
    });
    expect(await decide(fixture.filter, '/web/x')).toBe('200 allowed default/web');
    expect(await decide(fixture.filter, '/other')).toBe('403 no_allow_match');
  });

  it('alone, leaves every request allowed (no ALLOW policy)', async () => {
    fixture = await startFilterFixture({ 'deny.yaml': policy('deny-nothing', '  action: DENY') });
    expect(await decide(fixture.filter, '/anything')).toBe('200 no_allow_policies');
  });

  it('is not the empty rule {}, which denies everything', async () => {
    fixture = await startFilterFixture({ 'deny.yaml': policy('deny-all', '  action: DENY\n  rules: [{}]'), 'web.yaml': WEB });
    expect(await decide(fixture.filter, '/web/x')).toBe('403 denied_by_policy default/deny-all');
  });
});
