// ssl.mode against a real TLS handshake: what each mode accepts and refuses, serverName, client certificates.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresBackend, type PostgresStorageConfig } from '../../src/storage/postgres.js';
import { expectStorageError } from './conformance.js';
import { dropSchema, randomSchemaName, requirePostgres, TEST_POSTGRES_URL } from './postgres-helpers.js';
import { startTlsPostgresProxy } from './postgres-proxy.js';
import { CLIENT_CERT, CLIENT_KEY, OTHER_CA, SERVER_CERT, SERVER_KEY, TEST_CA } from './postgres-tls-fixtures.js';

type Ssl = NonNullable<PostgresStorageConfig['ssl']>;

let dir: string;
let files: { ca: string; otherCa: string; cert: string; key: string };
let proxies: { serverAuth: { port: number; close(): Promise<void> }; mutual: { port: number; close(): Promise<void> } };
const schemas: string[] = [];

beforeAll(async () => {
  await requirePostgres();
  dir = await mkdtemp(join(tmpdir(), 'idgate-tls-'));
  files = { ca: join(dir, 'ca.pem'), otherCa: join(dir, 'other-ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
  await Promise.all([
    writeFile(files.ca, TEST_CA), writeFile(files.otherCa, OTHER_CA), writeFile(files.cert, CLIENT_CERT), writeFile(files.key, CLIENT_KEY),
  ]);
  const url = new URL(TEST_POSTGRES_URL);
  const target = { host: url.hostname, port: Number(url.port || 5432) };
  proxies = {
    serverAuth: await startTlsPostgresProxy({ target, key: SERVER_KEY, cert: SERVER_CERT }),
    mutual: await startTlsPostgresProxy({ target, key: SERVER_KEY, cert: SERVER_CERT, clientCa: TEST_CA }),
  };
});

afterAll(async () => {
  await proxies?.serverAuth.close();
  await proxies?.mutual.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

/** Opens a backend through a TLS proxy (reached as 127.0.0.1, a name the certificate does not carry). */
function open(ssl: Ssl, proxy: 'serverAuth' | 'mutual' = 'serverAuth') {
  const schema = randomSchemaName();
  schemas.push(schema);
  const url = new URL(TEST_POSTGRES_URL);
  return createPostgresBackend({
    host: '127.0.0.1', port: proxies[proxy].port, user: decodeURIComponent(url.username), database: url.pathname.slice(1),
    ssl, connectionTimeout: 3, schema,
  });
}

async function expectConnects(ssl: Ssl, proxy: 'serverAuth' | 'mutual' = 'serverAuth'): Promise<void> {
  const backend = await open(ssl, proxy);
  try {
    await backend.ping();
  } finally {
    await backend.close();
  }
}

async function expectRefused(ssl: Ssl, reason: RegExp, proxy: 'serverAuth' | 'mutual' = 'serverAuth'): Promise<void> {
  const opening = open(ssl, proxy);
  await expectStorageError(opening, 'unavailable');
  await expect(opening).rejects.toThrow(reason);
}

describe('postgres ssl modes over a real TLS handshake', () => {
  it('require: encrypts without checking who signed the certificate', async () => {
    await expectConnects({ mode: 'require' });
  });

  it('require with a caFile: checks the chain, as libpq does, and refuses an unknown signer', async () => {
    await expectConnects({ mode: 'require', caFile: files.ca });
    await expectRefused({ mode: 'require', caFile: files.otherCa }, /unable to verify the first certificate.*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
  });

  it('verify-ca: accepts a certificate from the CA whatever name it carries', async () => {
    await expectConnects({ mode: 'verify-ca', caFile: files.ca });
  });

  it('verify-ca: refuses a certificate the CA did not sign', async () => {
    await expectRefused({ mode: 'verify-ca', caFile: files.otherCa }, /unable to verify the first certificate.*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
  });

  it('verify-full: refuses a certificate that does not name the host', async () => {
    await expectRefused({ mode: 'verify-full', caFile: files.ca }, /does not match certificate's altnames.*\(ERR_TLS_CERT_ALTNAME_INVALID\)$/);
  });

  it('verify-full: accepts it when serverName is the name the certificate carries', async () => {
    await expectConnects({ mode: 'verify-full', caFile: files.ca, serverName: 'db.idgate.test' });
  });

  it('verify-full: refuses when serverName names someone else', async () => {
    await expectRefused({ mode: 'verify-full', caFile: files.ca, serverName: 'other.idgate.test' }, /does not match certificate's altnames.*\(ERR_TLS_CERT_ALTNAME_INVALID\)$/);
  });

  it('verify-full: refuses a private CA unless caFile names it (the system CAs do not)', async () => {
    await expectRefused({ mode: 'verify-full', serverName: 'db.idgate.test' }, /unable to verify the first certificate.*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
  });

  it('disable: speaks plaintext, which a TLS-only server refuses', async () => {
    await expectRefused({ mode: 'disable' }, /Connection terminated unexpectedly/);
  });

  it('presents certFile and keyFile to a server that requires a client certificate', async () => {
    await expectConnects({ mode: 'verify-full', caFile: files.ca, serverName: 'db.idgate.test', certFile: files.cert, keyFile: files.key }, 'mutual');
  });

  it('is refused by that server without a client certificate', async () => {
    await expectRefused({ mode: 'verify-full', caFile: files.ca, serverName: 'db.idgate.test' }, /^PostgreSQL is unavailable \(migrating\): .*alert certificate required/, 'mutual');
  });
});
