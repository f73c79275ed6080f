/**
 * tls_client_auth (RFC 8705 §2.1): the client's certificate, issued by a CA in web.tlsClientCA,
 * carries the one name the client registered: its subject DN (tlsClientAuthSubjectDN) or a
 * subjectAltName entry (tlsClientAuthSANDNS, _SANURI, _SANIP, _SANEmail).
 */
import type { X509Certificate } from 'node:crypto';
import type { Client } from '../../storage/storage.js';
import { certificateSubject, hasSubjectAltName, parseDistinguishedName, sameDistinguishedName, SAN_KINDS, type SanKind } from './certificate-names.js';
import { invalidClient, type VerifyCredentials } from './method.js';

/** The registered name and whether the certificate carries it; undefined when the client registered none. */
function registeredName(client: Client, certificate: X509Certificate): { field: string; matches: boolean } | undefined {
  if (client.tlsClientAuthSubjectDN !== undefined) {
    return { field: 'tlsClientAuthSubjectDN', matches: sameDistinguishedName(certificateSubject(certificate), parseDistinguishedName(client.tlsClientAuthSubjectDN)) };
  }
  for (const kind of Object.keys(SAN_KINDS) as SanKind[]) {
    const expected = client[kind];
    if (expected !== undefined) return { field: kind, matches: hasSubjectAltName(certificate, kind, expected) };
  }
  return undefined;
}

export const verifyTlsClientAuth: VerifyCredentials<'tls_client_auth'> = async (client, _presented, context) => {
  const presented = context.certificate();
  if (!presented) throw invalidClient('tls_client_auth needs a client certificate: send the request over mutual TLS');
  if (!presented.certificate) {
    throw invalidClient("the proxy forwarded only the client certificate's hash (XFCC Hash=); tls_client_auth needs the certificate itself (Cert=)");
  }
  if (!presented.chainVerified) throw invalidClient('the client certificate was not issued by a CA in web.tlsClientCA');
  const name = registeredName(client, presented.certificate);
  if (!name) throw invalidClient(`client "${client.id}" registered no certificate name for tls_client_auth`);
  if (!name.matches) throw invalidClient(`the client certificate does not carry the ${name.field} registered for client "${client.id}"`);
};
