/**
 * The config keys of login sessions and logout: Dex's `sessions` (lifetimes and cookie name honoured,
 * the keys idgate does not implement refused with the reason), and the client metadata of logout and
 * group rules, each carried to the client record or refused with its path.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { staticClients } from '../../src/issuer.js';

const base = 'issuer: http://127.0.0.1:5556/dex\nstorage: {type: memory}\nweb: {http: 127.0.0.1:5556}\n';

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('the config was accepted');
}

describe('sessions', () => {
  it('defaults to Dex\'s lifetimes (24h, 1h) and takes others', () => {
    expect(parseConfig(base, 'test.yaml', {}).sessions).toEqual({ cookieName: 'idgate_session', absoluteLifetime: 86_400_000, validIfNotUsedFor: 3_600_000 });
    const set = parseConfig(`${base}sessions: {cookieName: sso, absoluteLifetime: 8h, validIfNotUsedFor: 30m}\n`, 'test.yaml', {}).sessions;
    expect(set).toEqual({ cookieName: 'sso', absoluteLifetime: 28_800_000, validIfNotUsedFor: 1_800_000 });
  });

  it('refuses zero lifetimes, a cookie name idgate uses or cannot write, and the Dex keys it does not implement', () => {
    expect(problemsOf(`${base}sessions: {absoluteLifetime: 0s, cookieName: idgate_browser}\n`)).toEqual([
      'sessions.cookieName: is the name of another idgate cookie',
      'sessions.absoluteLifetime: "0s" must be longer than 0',
    ]);
    expect(problemsOf(`${base}sessions: {cookieName: "a;b"}\n`)).toEqual(['sessions.cookieName: must be 1-64 letters, digits, "_" or "-"']);
    const refused = problemsOf(`${base}sessions: {cookieEncryptionKey: k, rememberMeCheckedByDefault: true, ssoSharedWithDefault: all}\n`);
    expect(refused).toHaveLength(3);
    expect(refused.join('\n')).toMatch(/sessions\.rememberMeCheckedByDefault: is not supported: idgate has no remember-me choice/);
    expect(refused.join('\n')).toMatch(/sessions\.cookieEncryptionKey: is not needed: the session cookie holds only a random value/);
    expect(refused.join('\n')).toMatch(/sessions\.ssoSharedWithDefault: is not supported: a login session is shared with every client/);
  });
});

describe('client metadata for sessions and logout', () => {
  const client = (extra: string) => `${base}staticClients:\n  - {id: app, secret: s3cr3t-s3cr3t, redirectURIs: [https://app.example/cb]${extra}}\n`;

  it('carries skipApprovalScreen, allowedGroups, postLogoutRedirectURIs and the back-channel keys to the client', () => {
    const config = parseConfig(client(', skipApprovalScreen: true, allowedGroups: [ops], postLogoutRedirectURIs: [https://app.example/bye], backchannelLogoutURI: https://app.example/bcl, backchannelLogoutSessionRequired: true'), 'test.yaml', {});
    expect(staticClients(config)[0]).toMatchObject({
      skipApprovalScreen: true, allowedGroups: ['ops'], postLogoutRedirectURIs: ['https://app.example/bye'],
      backchannelLogoutURI: 'https://app.example/bcl', backchannelLogoutSessionRequired: true,
    });
  });

  it('refuses a post-logout URI with a fragment, and a back-channel URI that is not http(s) or has one', () => {
    expect(problemsOf(client(', postLogoutRedirectURIs: ["https://app.example/bye#x"]'))).toEqual(['staticClients[0].postLogoutRedirectURIs[0]: must not have a fragment']);
    expect(problemsOf(client(', backchannelLogoutURI: "ftp://app.example/bcl"'))).toEqual(['staticClients[0].backchannelLogoutURI: must be an http or https URL']);
    expect(problemsOf(client(', backchannelLogoutURI: "https://app.example/bcl#x"'))).toEqual(['staticClients[0].backchannelLogoutURI: must not have a fragment']);
    expect(problemsOf(client(', allowedGroups: [""]'))).toHaveLength(1);
  });

  it("refuses Dex master's ssoSharedWith and refreshTokenLifetime, saying what idgate does instead", () => {
    const refused = problemsOf(client(', ssoSharedWith: ["*"], refreshTokenLifetime: session'));
    expect(refused).toEqual([
      'staticClients[0].ssoSharedWith: is not supported: a login session is shared with every client of the issuer; a client that wants a fresh login sends prompt=login or max_age',
      'staticClients[0].refreshTokenLifetime: is not supported: the refresh tokens of a login session are revoked when it is ended (logout, idgate sessions end), and outlive it when it expires',
    ]);
  });
});
