/**
 * Test certificates made with the openssl CLI in a folder of the caller's: EC P-256 keys, self-signed
 * certificates (CAs, or leaves with the extensions given) and certificates a CA signs, valid one day.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertificateFiles {
  cert: string;
  key: string;
}

async function key(path: string): Promise<void> {
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

/** A self-signed certificate: a CA by openssl's defaults, unless `extensions` (`-addext` values) say otherwise. */
export async function selfSigned(dir: string, name: string, subject: string, extensions: readonly string[] = []): Promise<CertificateFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await key(files.key);
  await run('openssl', ['req', '-x509', '-new', '-key', files.key, '-out', files.cert, '-days', '1', '-subj', subject, ...extensions.flatMap((ext) => ['-addext', ext])]);
  return files;
}

/** A certificate `ca` signs, with `extensions` in openssl's extfile syntax (one per line). */
export async function signed(dir: string, name: string, subject: string, ca: CertificateFiles, extensions: string): Promise<CertificateFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), csr: join(dir, `${name}.csr`), ext: join(dir, `${name}.ext`) };
  await key(files.key);
  await run('openssl', ['req', '-new', '-key', files.key, '-out', files.csr, '-subj', subject]);
  await writeFile(files.ext, extensions);
  await run('openssl', ['x509', '-req', '-in', files.csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', files.cert, '-days', '1', '-extfile', files.ext]);
  return { cert: files.cert, key: files.key };
}
