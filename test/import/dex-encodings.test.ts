// Dex's encodings as the importer decodes them: Go's times (go-sqlite3's text, RFC 3339 with
// nanoseconds and zones, the zero time) and the per-connector session state (connector_data) that
// idgate's connectors of the same type must be able to refresh from.
import { describe, expect, it } from 'vitest';
import { translateConnectorData } from '../../src/admin/import-dex/connector-data.js';
import { boolValue, parseGoTime, timeValue } from '../../src/admin/import-dex/column-values.js';
import type { StoredIdentity } from '../../src/storage/storage.js';

const place = { table: 'refresh_token', id: 'abc', column: 'created_at' };

describe("Go's times", () => {
  it("reads go-sqlite3's text and RFC 3339 with nanoseconds and zones", () => {
    const at = Date.UTC(2026, 2, 1, 10, 0, 0, 456);
    expect(parseGoTime('2026-03-01 10:00:00.456000123+00:00')).toBe(at);
    expect(parseGoTime('2026-03-01T10:00:00.456789123Z')).toBe(at);
    expect(parseGoTime('2026-03-01T12:00:00.456+02:00')).toBe(at);
    expect(parseGoTime('2026-03-01T05:30:00.456-04:30')).toBe(at);
    expect(parseGoTime('2026-03-01 10:00:00')).toBe(at - 456);
  });

  it("reads Go's zero time (Dex's column default) as unset, and refuses what is not a time", () => {
    expect(parseGoTime('0001-01-01 00:00:00 UTC')).toBeUndefined();
    expect(parseGoTime('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(timeValue(new Date('0001-01-01T00:00:00Z'), place)).toBeUndefined();
    expect(timeValue(null, place)).toBeUndefined();
    expect(parseGoTime('yesterday')).toBeNull();
    expect(() => timeValue('2026-13-45 junk', place)).toThrow('refresh_token abc: column created_at is not a time as Dex writes it');
    expect(() => timeValue(12345, place)).toThrow('is not a time');
  });

  it('reads booleans from PostgreSQL and from SQLite integers only', () => {
    expect(boolValue(true, place)).toBe(true);
    expect(boolValue(0, place)).toBe(false);
    expect(boolValue(1, place)).toBe(true);
    expect(boolValue(null, place)).toBeUndefined();
    expect(() => boolValue(2, place)).toThrow('is not a boolean');
    expect(() => boolValue('true', place)).toThrow('is not a boolean');
  });
});

const jane: StoredIdentity = { userId: 'jane-sub', username: 'Jane', email: 'jane@example.com', emailVerified: true };
const base = { identity: jane, createdAt: 1_700_000_000_000 };
const json = (data: Buffer | undefined) => (data ? JSON.parse(data.toString('utf8')) : undefined);

describe("Dex's connector_data rewritten for idgate's connectors", () => {
  it("oidc: Dex's {RefreshToken: base64} becomes the upstream refresh token and sub", () => {
    // Go marshals RefreshToken []byte as standard base64.
    const dex = Buffer.from(JSON.stringify({ RefreshToken: Buffer.from('upstream-refresh-token').toString('base64') }));
    const result = translateConnectorData({ ...base, type: 'oidc', config: { issuer: 'https://idp.example' }, data: dex });
    expect(result.problem).toBeUndefined();
    expect(json(result.data)).toEqual({ refreshToken: 'upstream-refresh-token', sub: 'jane-sub' });
  });

  it('oidc: says so when the user ID is not the upstream sub, and when the state is not Dex\'s', () => {
    const dex = Buffer.from(JSON.stringify({ RefreshToken: 'dXBzdHJlYW0=' }));
    const byEmail = translateConnectorData({ ...base, type: 'oidc', config: { userIDKey: 'email' }, data: dex });
    expect(byEmail.data).toBeUndefined();
    expect(byEmail.problem).toContain('userIDKey is "email"');
    const garbage = translateConnectorData({ ...base, type: 'oidc', config: {}, data: Buffer.from('not json') });
    expect(garbage.data).toBeUndefined();
    expect(garbage.problem).toContain("not Dex's OIDC connector data");
  });

  it("ldap: Dex's {username, entry: {DN}} becomes the username and DN", () => {
    const dex = Buffer.from(JSON.stringify({ username: 'jane', entry: { DN: 'uid=jane,ou=people,dc=example,dc=org', Attributes: [{ Name: 'mail', Values: ['jane@example.com'] }] } }));
    const result = translateConnectorData({ ...base, type: 'ldap', config: {}, data: dex });
    expect(json(result.data)).toEqual({ username: 'jane', dn: 'uid=jane,ou=people,dc=example,dc=org' });
    expect(translateConnectorData({ ...base, type: 'ldap', config: {}, data: Buffer.from('{}') }).problem).toContain("not Dex's LDAP connector data");
  });

  it('saml: the login identity, replayed by idgate from the time Dex created the session', () => {
    expect(json(translateConnectorData({ ...base, type: 'saml', config: {}, data: undefined }).data)).toEqual({ identity: jane, loginAt: base.createdAt });
  });

  it("github, gitlab, microsoft: Dex's {accessToken, refreshToken, expiry} as idgate's {accessToken, refreshToken, expiresAt}", () => {
    const dex = Buffer.from(JSON.stringify({ accessToken: 'gho_access', refreshToken: 'ghr_refresh', expiry: '2026-12-01T12:00:00Z' }));
    for (const type of ['github', 'microsoft']) {
      expect(json(translateConnectorData({ ...base, type, config: {}, data: dex }).data)).toEqual({ accessToken: 'gho_access', refreshToken: 'ghr_refresh', expiresAt: Date.parse('2026-12-01T12:00:00Z') });
    }
    // GitLab keeps no expiry; a GitHub OAuth app's token has Go's zero time and no refresh token.
    const gitlab = Buffer.from(JSON.stringify({ accessToken: 'glpat', refreshToken: 'glrt' }));
    expect(json(translateConnectorData({ ...base, type: 'gitlab', config: {}, data: gitlab }).data)).toEqual({ accessToken: 'glpat', refreshToken: 'glrt' });
    const oauthApp = Buffer.from(JSON.stringify({ accessToken: 'gho_app', expiry: '0001-01-01T00:00:00Z' }));
    expect(json(translateConnectorData({ ...base, type: 'github', config: {}, data: oauthApp }).data)).toEqual({ accessToken: 'gho_app' });
    expect(translateConnectorData({ ...base, type: 'github', config: {}, data: Buffer.from('opaque') }).problem).toContain("not Dex's github connector data");
  });

  it("oauth: Dex's {AccessToken}; google: Dex's bare refresh token with the upstream sub (Dex's user ID)", () => {
    expect(json(translateConnectorData({ ...base, type: 'oauth', config: {}, data: Buffer.from('{"AccessToken":"at-1"}') }).data)).toEqual({ accessToken: 'at-1' });
    expect(translateConnectorData({ ...base, type: 'oauth', config: {}, data: Buffer.from('{"accessToken":"wrong-case"}') }).problem).toContain("not Dex's oauth connector data");
    expect(json(translateConnectorData({ ...base, type: 'google', config: {}, data: Buffer.from('1//0g-refresh') }).data)).toEqual({ refreshToken: '1//0g-refresh', sub: jane.userId });
    expect(translateConnectorData({ ...base, type: 'google', config: {}, data: Buffer.from('{"json":1}') }).problem).toContain("not Dex's google connector data");
  });

  it('other types: kept as Dex wrote them, and said so unless there is nothing to keep', () => {
    const data = Buffer.from('opaque');
    expect(translateConnectorData({ ...base, type: 'bitbucket-cloud', config: {}, data })).toMatchObject({ data, problem: expect.stringContaining("idgate's bitbucket-cloud connector may not read") });
    expect(translateConnectorData({ ...base, type: 'local', config: undefined, data: undefined })).toEqual({});
    expect(translateConnectorData({ ...base, type: 'mockCallback', config: {}, data })).toEqual({ data });
  });
});
