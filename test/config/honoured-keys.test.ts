/**
 * Every accepted key does what it says, or is refused: values Dex would refuse (or that would break
 * serve) are refused at load with their path and line, and keys idgate cannot honour are refused
 * with a pointer to what to use instead.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

const base = `issuer: http://127.0.0.1:5556/dex
storage:
  type: memory
web:
  http: 127.0.0.1:5556
`;

function problemsOf(text: string): string[] {
  let error: unknown;
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).file).toBe('test.yaml');
  return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}${p.line ? ` @${p.line}` : ''}`);
}

describe('listen addresses', () => {
  it('refuses a port above 65535', () => {
    expect(problemsOf(base.replace('127.0.0.1:5556\n', '127.0.0.1:99999\n'))).toEqual(['web.http: port out of range (0-65535) @5']);
    expect(problemsOf(`${base}telemetry:\n  http: 0.0.0.0:65536\n`)).toEqual(['telemetry.http: port out of range (0-65535) @7']);
  });
});

describe('durations', () => {
  it('refuses a lifetime longer than Go\'s longest duration (it overflowed every /token into a 500)', () => {
    expect(problemsOf(`${base}expiry:\n  idTokens: 99999999999999h\n`)).toEqual(['expiry.idTokens: "99999999999999h" is too long (at most 2562047h) @7']);
  });

  it('refuses authCodes: 0s and other zero lifetimes', () => {
    expect(problemsOf(`${base}expiry:\n  authCodes: 0s\n  idTokens: 0h\n`)).toEqual([
      'expiry.idTokens: "0h" must be longer than 0 @8',
      'expiry.authCodes: "0s" must be longer than 0 @7',
    ]);
  });

  it('refuses a zero or overflowing key rotation period, with its line', () => {
    expect(problemsOf(`${base}signer:\n  config:\n    keysRotationPeriod: 0s\n`)).toEqual(['signer.config.keysRotationPeriod: "0s" must be longer than 0 @8']);
    expect(problemsOf(`${base}expiry:\n  signingKeys: 9999999999h\n`)).toEqual(['expiry.signingKeys: "9999999999h" is too long (at most 2562047h) @7']);
  });

  it('takes oauth2.devicePollingInterval in whole seconds only, and not 0', () => {
    expect(parseConfig(`${base}oauth2:\n  devicePollingInterval: 10s\n`, 'test.yaml', {}).oauth2.devicePollingInterval).toBe(10_000);
    expect(problemsOf(`${base}oauth2:\n  devicePollingInterval: 1500ms\n`)).toEqual(['oauth2.devicePollingInterval: must be whole seconds (e.g. "5s") @7']);
    expect(problemsOf(`${base}oauth2:\n  devicePollingInterval: 0s\n`)).toEqual(['oauth2.devicePollingInterval: "0s" must be longer than 0 @7']);
  });

  it('still accepts a zero refresh reuse interval (0 turns the grace period off)', () => {
    expect(parseConfig(`${base}expiry:\n  refreshTokens:\n    reuseInterval: 0s\n`, 'test.yaml', {}).expiry.refreshTokens.reuseInterval).toBe(0);
  });
});

describe('web.tlsMinVersion and web.tlsMaxVersion', () => {
  it('accepts Dex\'s values and refuses others', () => {
    const config = parseConfig(`${base}  tlsMinVersion: "1.3"\n  tlsMaxVersion: "1.3"\n`, 'test.yaml', {});
    expect([config.web.tlsMinVersion, config.web.tlsMaxVersion]).toEqual(['1.3', '1.3']);
    expect(problemsOf(`${base}  tlsMinVersion: "1.1"\n`)).toEqual(['web.tlsMinVersion: unknown value (expected one of: 1.2, 1.3) @6']);
  });

  it('refuses a maximum below the minimum', () => {
    expect(problemsOf(`${base}  tlsMinVersion: "1.3"\n  tlsMaxVersion: "1.2"\n`)).toEqual(['web.tlsMaxVersion: is lower than tlsMinVersion (1.3) @7']);
  });
});

describe('web.headers', () => {
  it('takes Dex\'s header names and refuses others', () => {
    const config = parseConfig(`${base}  headers:\n    Strict-Transport-Security: max-age=31536000\n`, 'test.yaml', {});
    expect(config.web.headers).toEqual({ 'Strict-Transport-Security': 'max-age=31536000' });
    expect(problemsOf(`${base}  headers:\n    X-Frame-Option: DENY\n`)).toEqual(['web.headers.X-Frame-Option: unknown key (did you mean "X-Frame-Options"?) @7']);
  });
});

describe('frontend', () => {
  it('refuses frontend.dir and frontend.extra (Dex\'s templates) with a pointer to the theming doc', () => {
    const [dir] = problemsOf(`${base}frontend:\n  dir: /srv/dex/web\n`);
    expect(dir).toMatch(/^frontend\.dir: is not supported: .*Go templates.*docs\/login\.md#theming\) @7$/);
    const [extra] = problemsOf(`${base}  frontend:\n    extra: { tagline: hi }\n`);
    expect(extra).toMatch(/^web\.frontend\.extra: is not supported: .*docs\/login\.md#theming\) @7$/);
  });
});

describe('storage.gcInterval', () => {
  it('is optional, parsed as a duration and never 0', () => {
    expect(parseConfig(base, 'test.yaml', {}).storage.gcInterval).toBeUndefined();
    expect(parseConfig(base.replace('type: memory', 'type: memory\n  gcInterval: 30s'), 'test.yaml', {}).storage.gcInterval).toBe(30_000);
    expect(problemsOf(base.replace('type: memory', 'type: memory\n  gcInterval: 0s'))).toEqual(['storage.gcInterval: "0s" must be longer than 0 @4']);
  });
});

describe('filter.trustedProxies', () => {
  it('refuses an entry that is not an IP or CIDR, naming it, instead of dropping it', () => {
    const text = `${base}filter:\n  http: 127.0.0.1:9192\n  trustedProxies: [10.0.0.0/8, "10.0.0.0/33", proxy.internal]\n`;
    expect(problemsOf(text)).toEqual([
      'filter.trustedProxies[1]: not an IP address or CIDR block (e.g. 10.0.0.0/8) @8',
      'filter.trustedProxies[2]: not an IP address or CIDR block (e.g. 10.0.0.0/8) @8',
    ]);
  });
});

describe('web.clientRemoteIP.trustedProxies', () => {
  it('refuses an entry that is not an IP or CIDR, naming it, instead of skipping it', () => {
    const text = `${base}  clientRemoteIP:\n    header: X-Forwarded-For\n    trustedProxies: [127.0.0.1, "10.0.0.0/abc"]\n`;
    expect(problemsOf(text)).toEqual(['web.clientRemoteIP.trustedProxies[1]: not an IP address or CIDR block (e.g. 10.0.0.0/8) @8']);
  });
});

describe('YAML', () => {
  it('names a duplicate key with its path and line', () => {
    expect(problemsOf(`${base}  http: 127.0.0.1:5557\n`)).toEqual(['web.http: YAML: duplicate key (a key may appear only once in a mapping) @6']);
    expect(problemsOf(`${base}staticClients:\n- id: a\n  public: true\n  id: b\n`)).toEqual([
      'staticClients[0].id: YAML: duplicate key (a key may appear only once in a mapping) @9',
    ]);
  });

  it('refuses an alias bomb as a config error with the file and a line', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(problemsOf(`${base}${bomb}\n`)).toEqual([': YAML: more than 100 aliases are expanded (an alias bomb?); write the values out instead @7']);
  });
});
