/**
 * filter.signIn in the config file: defaults, secrets from the environment, and every refusal naming
 * its path and reason.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';

function load(signIn: string, env: Record<string, string> = {}) {
  return parseConfig(`issuer: http://127.0.0.1:5556/dex
storage: { type: memory }
web: { http: 127.0.0.1:5556 }
filter:
  http: 127.0.0.1:9192
  signIn:
${signIn.replace(/^/gm, '    ')}
`, 'idgate.yaml', env);
}

function problems(signIn: string, env: Record<string, string> = {}): string[] {
  try {
    load(signIn, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('the config was accepted');
}

const BASE = `issuer: http://127.0.0.1:5556/dex
clientID: idgate-filter`;
const SECRET = 'a-cookie-secret-of-at-least-32-characters';

describe('filter.signIn config', () => {
  it('fills the defaults', () => {
    const signIn = load(`${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET} }`).filter!.signIn!;
    expect(signIn).toMatchObject({
      scopes: ['openid', 'email', 'profile', 'groups'], pathPrefix: '/oauth2/', workloads: [], endSessionOnSignOut: true, signInTimeout: 600_000,
      cookie: { name: '_idgate_session', lifetime: 43_200_000, sameSite: 'Lax', secret: SECRET },
    });
  });

  it('reads clientSecretEnv and cookie.secretEnv from the environment', () => {
    const signIn = load(`${BASE}\nclientSecretEnv: FILTER_SECRET\ncookie: { secretEnv: COOKIE_SECRET }`, { FILTER_SECRET: 'from-env', COOKIE_SECRET: SECRET }).filter!.signIn!;
    expect(signIn.clientSecret).toBe('from-env');
    expect(signIn.cookie.secret).toBe(SECRET);
  });

  it('names a missing environment variable and a short secret from one', () => {
    expect(problems(`${BASE}\nclientSecretEnv: FILTER_SECRET\ncookie: { secretEnv: COOKIE_SECRET }`, { COOKIE_SECRET: 'short' })).toEqual([
      'filter.signIn.clientSecretEnv: environment variable FILTER_SECRET is not set',
      'filter.signIn.cookie.secretEnv: environment variable COOKIE_SECRET must hold at least 32 characters',
    ]);
  });

  it.each([
    ['no client secret', `${BASE}\ncookie: { secret: ${SECRET} }`, 'filter.signIn.clientSecret'],
    ['no cookie secret', `${BASE}\nclientSecret: s`, 'filter.signIn.cookie.secret'],
    ['a short cookie secret', `${BASE}\nclientSecret: s\ncookie: { secret: short }`, 'filter.signIn.cookie.secret'],
    ['a prefix without the trailing slash', `${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET} }\npathPrefix: /oauth2`, 'filter.signIn.pathPrefix'],
    ['the whole site as prefix', `${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET} }\npathPrefix: /`, 'filter.signIn.pathPrefix'],
    ['scopes without openid', `${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET} }\nscopes: [email]`, 'filter.signIn.scopes'],
    ['a cookie name with a space', `${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET}, name: "a b" }`, 'filter.signIn.cookie.name'],
    ['an issuer that is not a URL', `issuer: login\nclientID: c\nclientSecret: s\ncookie: { secret: ${SECRET} }`, 'filter.signIn.issuer'],
    ['an unknown key', `${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET} }\nskipProviderButton: true`, 'filter.signIn'],
    ['a zero lifetime', `${BASE}\nclientSecret: s\ncookie: { secret: ${SECRET}, lifetime: 0s }`, 'filter.signIn.cookie.lifetime'],
  ])('refuses %s', (_, signIn, path) => {
    expect(problems(signIn).some((p) => p.startsWith(`${path}`))).toBe(true);
  });
});
