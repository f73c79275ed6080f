/**
 * The `console` config section: what it must say (a secret, groups, the telemetry listener, a URL
 * without a path), the client it registers at the issuer, and every refusal naming its path.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';

const BASE = `issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: "127.0.0.1:5556" }
telemetry: { http: "127.0.0.1:5558" }
`;
const CONSOLE = `console:
  publicURL: http://127.0.0.1:5558
  clientSecret: a-console-secret-of-length
  adminGroups: [ops]
`;

function problems(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(yaml, 'c.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('console config', () => {
  it('registers the console as a confidential client with PKCE, the code grant and its redirect URI', () => {
    const config = parseConfig(BASE + CONSOLE, 'c.yaml', {});
    expect(config.console).toMatchObject({ clientID: 'idgate-console', redirectPath: '/console/callback', sessionLifetime: 8 * 3_600_000, readOnlyGroups: [], inventory: [] });
    expect(config.staticClients).toContainEqual(expect.objectContaining({
      id: 'idgate-console', secret: 'a-console-secret-of-length', public: false, requirePKCE: true,
      redirectURIs: ['http://127.0.0.1:5558/console/callback'], grantTypes: ['authorization_code'],
    }));
  });

  it('reads the secret from clientSecretEnv', () => {
    const config = parseConfig(BASE + CONSOLE.replace('clientSecret: a-console-secret-of-length', 'clientSecretEnv: CONSOLE_SECRET'), 'c.yaml', { CONSOLE_SECRET: 'from-the-environment-1234' });
    expect(config.console?.clientSecret).toBe('from-the-environment-1234');
    expect(config.staticClients.find((c) => c.id === 'idgate-console')?.secret).toBe('from-the-environment-1234');
  });

  it('refuses what cannot work, naming the path', () => {
    expect(problems(BASE + CONSOLE.replace('  clientSecret: a-console-secret-of-length\n', ''))).toEqual([
      'console.clientSecret: clientSecret or clientSecretEnv is required (the console is a confidential client of the issuer)',
    ]);
    expect(problems(BASE + CONSOLE.replace('a-console-secret-of-length', 'short'))).toEqual(['console.clientSecret: must be at least 16 characters']);
    expect(problems(BASE + CONSOLE.replace('  adminGroups: [ops]\n', ''))).toEqual([
      'console.adminGroups: name at least one group in readOnlyGroups or adminGroups: nobody could use the console',
    ]);
    expect(problems(BASE.replace('telemetry: { http: "127.0.0.1:5558" }\n', '') + CONSOLE)).toEqual([
      'console: the console is served on the telemetry listener: set telemetry.http too',
    ]);
    expect(problems(BASE + CONSOLE.replace('http://127.0.0.1:5558', 'http://127.0.0.1:5558/admin'))[0]).toMatch(/^console\.publicURL: must be an http\(s\) URL without a path/);
    expect(problems(BASE + CONSOLE + '  redirectPath: /elsewhere\n')[0]).toMatch(/^console\.redirectPath: must be a path under \/console\//);
    expect(problems(BASE + CONSOLE + '  groups: [ops]\n')[0]).toMatch(/^console\.groups: unknown key/);
    expect(problems(BASE + CONSOLE.replace('clientSecret: a-console-secret-of-length', 'clientSecretEnv: UNSET_VAR'))).toEqual(['console.clientSecretEnv: environment variable UNSET_VAR is not set']);
  });

  it('refuses a clientID that a static client already has', () => {
    const yaml = `${BASE}staticClients:\n  - { id: idgate-console, secret: other-secret-12345, redirectURIs: [http://127.0.0.1/cb] }\n${CONSOLE}`;
    expect(problems(yaml)).toEqual(['console.clientID: staticClients has a client "idgate-console" already; the console registers its own client: choose another clientID']);
  });
});
