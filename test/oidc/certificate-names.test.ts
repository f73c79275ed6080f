/**
 * How tls_client_auth compares a certificate's names with the registered ones (RFC 8705 §2.1.2): DNs
 * RDN by RDN (types by name or OID, values case- and space-insensitively, multi-valued RDNs as sets,
 * RFC 4514 escapes read), SAN entries exactly; with certificates openssl makes.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateSubject, hasSubjectAltName, parseDistinguishedName, sameDistinguishedName,
} from '../../src/oidc/client-auth/certificate-names.js';
import { selfSigned, signed } from '../helpers/openssl.js';

let dir: string;
let certificate: X509Certificate;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idgate-names-'));
  const ca = await selfSigned(dir, 'ca', '/CN=names test CA');
  const files = await signed(dir, 'client', '/C=US/O=Example, Inc./OU=Payments/CN=billing\\+svc', ca, [
    'subjectAltName=@alt', '[alt]', 'DNS.1=billing.example.com', 'URI.1=spiffe://example.org/billing?a=1,2', 'IP.1=2001:db8::7', 'email.1=ops@example.com', '',
  ].join('\n'));
  certificate = new X509Certificate(await readFile(files.cert));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const matches = (dn: string) => sameDistinguishedName(certificateSubject(certificate), parseDistinguishedName(dn));

describe('subject DN (tlsClientAuthSubjectDN)', () => {
  it('matches the RFC 4514 string, most specific RDN first, escapes read', () => {
    expect(matches('CN=billing\\+svc,OU=Payments,O=Example\\, Inc.,C=US')).toBe(true);
    expect(matches('CN=billing\\2Bsvc,OU=Payments,O=Example\\2C Inc.,C=US')).toBe(true);
  });

  it('ignores case and insignificant spaces, and knows attribute types by name and OID', () => {
    expect(matches('cn=BILLING\\+SVC, ou=payments , O=example\\,  inc., c=us')).toBe(true);
    expect(matches('commonName=billing\\+svc,organizationalUnitName=Payments,2.5.4.10=Example\\, Inc.,countryName=US')).toBe(true);
  });

  it('does not match another order, a missing or an extra RDN, or another value', () => {
    expect(matches('C=US,O=Example\\, Inc.,OU=Payments,CN=billing\\+svc')).toBe(false);
    expect(matches('CN=billing\\+svc,O=Example\\, Inc.,C=US')).toBe(false);
    expect(matches('CN=billing\\+svc,OU=Payments,O=Example\\, Inc.,C=US,DC=example')).toBe(false);
    expect(matches('CN=billing,OU=Payments,O=Example\\, Inc.,C=US')).toBe(false);
  });

  it('compares a multi-valued RDN as a set, and refuses what it cannot read', () => {
    expect(sameDistinguishedName(parseDistinguishedName('OU=a+OU=b,O=x'), parseDistinguishedName('OU=b + OU=a, O=x'))).toBe(true);
    expect(sameDistinguishedName(parseDistinguishedName('OU=a+OU=b,O=x'), parseDistinguishedName('OU=a,OU=b,O=x'))).toBe(false);
    for (const bad of ['', 'CN', 'CN=#0403616263', 'C N=x', 'CN=a\\']) expect(() => parseDistinguishedName(bad), bad).toThrow();
  });
});

describe('subjectAltName entries', () => {
  it('matches each kind exactly', () => {
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANDNS', 'billing.example.com')).toBe(true);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANDNS', 'example.com')).toBe(false);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANURI', 'spiffe://example.org/billing?a=1,2')).toBe(true);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANURI', 'spiffe://example.org/billing')).toBe(false);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANIP', '2001:db8:0::7')).toBe(true);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANIP', '2001:db8::8')).toBe(false);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANEmail', 'ops@example.com')).toBe(true);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANEmail', 'dev@example.com')).toBe(false);
  });

  it('does not take the subject CN for a DNS name, nor a URI for another kind', () => {
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANDNS', 'billing+svc')).toBe(false);
    expect(hasSubjectAltName(certificate, 'tlsClientAuthSANDNS', 'spiffe://example.org/billing?a=1,2')).toBe(false);
  });
});
