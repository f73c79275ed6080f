/**
 * The `filter` config section: Dex-style camelCase keys with defaults, strict objects (an unknown key
 * is an error), and a filter that refuses to start on invalid policies with the problems listed.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseFilterConfig } from '../../src/authz/config.js';
import { PolicyError } from '../../src/authz/errors.js';
import { startFilter } from '../../src/authz/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { writePolicies } from './helpers/filter-fixture.js';

describe('filter config', () => {
  it('applies Istio-compatible defaults', () => {
    const config = parseFilterConfig({});
    expect(config).toMatchObject({
      rootNamespace: 'istio-system', clockSkew: 60_000, algorithms: ['RS256', 'ES256', 'EdDSA'], verifier: 'node-crypto',
      defaultWorkload: { namespace: 'default', labels: {} }, pathNormalization: 'BASE', challengeAnonymous: false,
      jwks: { refreshInterval: 300_000, unknownKidCooldown: 30_000, fetchTimeout: 5_000 }, tokenCache: { maxEntries: 10_000 },
    });
  });

  it('refuses unknown keys and bad values', () => {
    expect(() => parseFilterConfig({ clockSkwe: '1m' } as never)).toThrow(/clockSkwe/);
    expect(() => parseFilterConfig({ algorithms: ['none'] } as never)).toThrow();
    expect(() => parseFilterConfig({ clockSkew: 'soon' })).toThrow(/not a duration/);
    expect(() => parseFilterConfig({ grpc: '9191' })).toThrow(/not a listen address/);
  });
});

describe('startFilter with invalid policies', () => {
  it('refuses to start, with every problem, and never listens', async () => {
    const dir = await writePolicies({
      'bad.yaml': 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: web, namespace: a }\nspec: { provider: { name: x }, rules: [{}] }\n',
    });
    const start = startFilter({ config: parseFilterConfig({ policies: [dir], grpc: '127.0.0.1:0', watch: false, audit: { enabled: false } }), logger: silentLogger(), registry: new Registry() });
    await expect(start).rejects.toBeInstanceOf(PolicyError);
    await expect(start).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID', message: expect.stringContaining('bad.yaml#0 (AuthorizationPolicy a/web): spec.provider: provider is only allowed with action CUSTOM') });
  });
});
