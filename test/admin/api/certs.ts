/**
 * Certificates for the management API tests, made with openssl in a temp folder: a CA, a server
 * certificate for 127.0.0.1/localhost, a client certificate (CN=ops-admin, O=Example Ops) that CA
 * signed, and a second CA with a client certificate of its own (trusted by nobody here). EC P-256,
 * valid one day; they protect nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

async function key(path: string): Promise<void> {
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function selfSigned(dir: string, name: string, subject: string): Promise<{ cert: string; key: string }> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await key(files.key);
  await run('openssl', ['req', '-x509', '-new', '-key', files.key, '-out', files.cert, '-days', '1', '-subj', subject]);
  return files;
}

async function signed(dir: string, name: string, subject: string, ca: { cert: string; key: string }, extensions: string) {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), csr: join(dir, `${name}.csr`), ext: join(dir, `${name}.ext`) };
  await key(files.key);
  await run('openssl', ['req', '-new', '-key', files.key, '-out', files.csr, '-subj', subject]);
  await writeFile(files.ext, extensions);
  await run('openssl', ['x509', '-req', '-in', files.csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', files.cert, '-days', '1', '-extfile', files.ext]);
  return files;
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
