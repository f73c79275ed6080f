// How the `storage: {type: postgres}` options (Dex's names) become node-postgres Pool options. No server needed.
import type { ConnectionOptions } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import {
  parseConnectionString, postgresPoolSettings, quoteIdentifier, type PostgresStorageConfig,
} from '../../src/storage/postgres-config.js';

const FILES: Record<string, string> = { '/tls/ca.pem': 'CA PEM', '/tls/client.pem': 'CERT PEM', '/tls/client.key': 'KEY PEM' };
const readFile = (path: string): string => {
  const content = FILES[path];
  if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return content;
};
const settings = (config: PostgresStorageConfig) => postgresPoolSettings(config, readFile);
type SslMode = NonNullable<PostgresStorageConfig['ssl']>['mode'];
const ssl = (mode: SslMode, extra: Partial<NonNullable<PostgresStorageConfig['ssl']>> = {}) =>
  settings({ host: 'db.internal', ssl: { mode, ...extra } }).pool.ssl as false | ConnectionOptions;

describe('postgres config: Dex options to pool options', () => {
  it('maps connectionTimeout (s), maxOpenConns, connMaxLifetime (s) and keeps maxIdleConns for release', () => {
    const { pool, maxIdleConns } = settings({ connectionTimeout: 3, maxOpenConns: 20, maxIdleConns: 2, connMaxLifetime: 600 });
    expect(pool).toMatchObject({ connectionTimeoutMillis: 3000, max: 20, maxLifetimeSeconds: 600 });
    expect(maxIdleConns).toBe(2);
  });

  it("defaults to Dex's 5 open / 5 idle connections, a 10 s connect timeout and no lifetime limit", () => {
    const { pool, maxIdleConns, schema } = settings({});
    expect(pool).toMatchObject({ connectionTimeoutMillis: 10_000, max: 5, maxLifetimeSeconds: 0, keepAlive: true });
    expect(maxIdleConns).toBe(5);
    expect(schema).toBe('public');
  });

  it('sets search_path at connection start-up to the quoted schema', () => {
    expect(settings({ schema: 'idgate' }).pool.options).toBe('-c search_path="idgate"');
    expect(settings({}).pool.options).toBe('-c search_path="public"');
  });

  it('quotes identifiers by doubling embedded quotes', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });
});

describe('postgres config: connection string and separate keys', () => {
  it('takes every part from a postgres:// URI', () => {
    const { pool } = settings({ connectionString: 'postgresql://idgate:s%40cret@db.example.com:6543/idp?application_name=issuer' });
    expect(pool).toMatchObject({
      host: 'db.example.com', port: 6543, user: 'idgate', password: 's@cret', database: 'idp', application_name: 'issuer',
    });
  });

  it('lets the separate keys override the parts of the connection string', () => {
    const { pool } = settings({
      connectionString: 'postgres://idgate:old@db.example.com:6543/idp?sslmode=require',
      host: 'replica.example.com', port: 5432, password: 'new', database: 'other', user: 'svc', ssl: { mode: 'disable' },
    });
    expect(pool).toMatchObject({ host: 'replica.example.com', port: 5432, user: 'svc', password: 'new', database: 'other', ssl: false });
  });

  it('keeps the parts an override does not name', () => {
    const { pool } = settings({ connectionString: 'postgres://idgate@db.example.com/idp', password: 'from-env' });
    expect(pool).toMatchObject({ host: 'db.example.com', user: 'idgate', database: 'idp', password: 'from-env' });
  });

  it("reads libpq's query parameters: host (a socket directory), port, dbname, sslmode and the TLS files", () => {
    expect(parseConnectionString('postgres:///idp?host=/var/run/postgresql&port=5433')).toMatchObject({
      host: '/var/run/postgresql', port: 5433, database: 'idp',
    });
    expect(parseConnectionString('postgres://h/x?sslmode=verify-ca&sslrootcert=/tls/ca.pem&sslcert=/c&sslkey=/k').ssl).toEqual({
      mode: 'verify-ca', caFile: '/tls/ca.pem', certFile: '/c', keyFile: '/k',
    });
  });

  it('appends its search_path to the options a connection string already carries', () => {
    expect(settings({ connectionString: 'postgres://h/x?options=-c%20statement_timeout%3D5000', schema: 's' }).pool.options)
      .toBe('-c statement_timeout=5000 -c search_path="s"');
  });

  it.each([
    ['mysql://h/x', 'not a postgres:// URI'],
    ['db.example.com:5432', 'not a postgres:// URI'],
    ['host=db dbname=idgate', 'not a valid URI (use postgres://user:password@host:port/database)'],
    ['postgres://h:99999/x', 'not a valid URI (use postgres://user:password@host:port/database)'],
    ['postgres://h/x?port=0', 'bad port "0"'],
    ['postgres://h/x?sslmode=maybe', 'unknown sslmode "maybe"'],
  ])('refuses %s with a config error naming connectionString', (connectionString, message) => {
    const error = (() => { try { settings({ connectionString }); } catch (caught) { return caught; } })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_CONFIG_INVALID');
    expect((error as ConfigError).problems).toEqual([{ path: 'storage.config.connectionString', message }]);
  });
});

describe('postgres config: ssl modes', () => {
  it('uses no TLS for disable and allow (pg cannot fall back from plaintext to TLS), and when ssl is absent', () => {
    expect(ssl('disable')).toBe(false);
    expect(ssl('allow')).toBe(false);
    expect(settings({ host: 'h' }).pool.ssl).toBe(false);
  });

  it('encrypts without verifying the server for prefer and require', () => {
    expect(ssl('prefer')).toEqual({ rejectUnauthorized: false });
    expect(ssl('require')).toEqual({ rejectUnauthorized: false });
  });

  it('verifies the chain but not the name for verify-ca, and for require with a CA file (as libpq does)', () => {
    for (const mode of ['verify-ca', 'require'] as const) {
      const options = ssl(mode, { caFile: '/tls/ca.pem' });
      expect(options).toMatchObject({ ca: 'CA PEM', rejectUnauthorized: true });
      expect(options && options.checkServerIdentity?.('other.name', {} as never)).toBeUndefined();
    }
  });

  it('verifies chain and host name for verify-full, with the client certificate and key', () => {
    const options = ssl('verify-full', { caFile: '/tls/ca.pem', certFile: '/tls/client.pem', keyFile: '/tls/client.key' });
    expect(options).toEqual({ ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: true });
  });

  it('checks the certificate against serverName instead of the host when one is given', () => {
    const options = ssl('verify-full', { serverName: 'postgres.internal' });
    const cert = { subject: { CN: 'postgres.internal' }, subjectaltname: 'DNS:postgres.internal' };
    expect(options && options.checkServerIdentity?.('10.0.0.7', cert as never)).toBeUndefined();
    const wrong = { subject: { CN: 'evil.example.com' }, subjectaltname: 'DNS:evil.example.com' };
    expect(options && options.checkServerIdentity?.('postgres.internal', wrong as never)).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('reports an unreadable TLS file as a config error naming the key', () => {
    const error = (() => { try { ssl('verify-full', { caFile: '/tls/missing.pem' }); } catch (caught) { return caught; } })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([{ path: 'storage.config.ssl.caFile', message: 'cannot read /tls/missing.pem: ENOENT' }]);
  });
});
