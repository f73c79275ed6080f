/**
 * Certificates for the management API tests, made with openssl in a temp folder: a CA, a server
 * certificate for 127.0.0.1/localhost, a client certificate (CN=ops-admin, O=Example Ops) that CA
 * signed, and a second CA with a client certificate of its own (trusted by nobody here). EC P-256,
 * valid one day; they protect nothing.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSigned, signed } from '../../helpers/openssl.js';

export interface TestCertificates {
  dir: string;
  /** Paths, for the config's grpc section. */
  files: { ca: string; otherCa: string; serverCert: string; serverKey: string };
  /** PEM contents, for gRPC clients. */
  ca: Buffer;
  client: { cert: Buffer; key: Buffer };
  untrusted: { cert: Buffer; key: Buffer };
  /** The subject idgate reports for `client`. */
  clientSubject: string;
  remove(): Promise<void>;
}

export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-admin-api-'));
  const ca = await selfSigned(dir, 'ca', '/CN=idgate admin test CA');
  const other = await selfSigned(dir, 'other-ca', '/CN=some other CA');
  const server = await signed(dir, 'server', '/CN=127.0.0.1', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const client = await signed(dir, 'client', '/O=Example Ops/CN=ops-admin', ca, 'extendedKeyUsage=clientAuth\n');
  const untrusted = await signed(dir, 'untrusted', '/CN=ops-admin', other, 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    files: { ca: ca.cert, otherCa: other.cert, serverCert: server.cert, serverKey: server.key },
    ca: await readFile(ca.cert),
    client: { cert: await readFile(client.cert), key: await readFile(client.key) },
    untrusted: { cert: await readFile(untrusted.cert), key: await readFile(untrusted.key) },
    clientSubject: 'O=Example Ops, CN=ops-admin',
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
