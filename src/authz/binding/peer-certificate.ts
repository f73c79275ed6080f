/**
 * The client certificate's RFC 8705 thumbprint (`x5t#S256`: base64url SHA-256 of its DER), from what
 * the proxy reports: a URL-encoded PEM (Envoy's attributes.source.certificate and XFCC `Cert=`,
 * nginx's $ssl_client_escaped_cert) or the hex SHA-256 Envoy puts in XFCC `Hash=`. The PEM is only
 * unwrapped to its DER, not parsed as X.509 (node's X509Certificate costs ~240 µs, the unwrapping
 * ~12): the proxy has verified the certificate, and a digest equal to the token's names that
 * certificate and no other. Recent thumbprints are memoized by the reported string, since a client
 * sends the same certificate on every request of its connections.
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate } from '../check-input.js';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const WHITESPACE = /\s+/g;
const SHA256_HEX = /^[0-9A-Fa-f]{64}$/;
const MEMO_ENTRIES = 1024;

/** The DER of the first certificate in a PEM text, or undefined when there is none. */
function firstCertificateDer(pem: string): Buffer | undefined {
  const begin = pem.indexOf(BEGIN);
  const end = begin === -1 ? -1 : pem.indexOf(END, begin + BEGIN.length);
  if (end === -1) return undefined;
  const body = pem.slice(begin + BEGIN.length, end).replace(WHITESPACE, '');
  if (!BASE64.test(body) || body.length % 4 !== 0) return undefined;
  const der = Buffer.from(body, 'base64');
  return der.length > 0 && der.toString('base64') === body ? der : undefined;
}

function thumbprintOfPem(urlEncodedPem: string): string | undefined {
  let pem: string;
  try {
    pem = decodeURIComponent(urlEncodedPem);
  } catch {
    return undefined;
  }
  const der = firstCertificateDer(pem);
  return der ? createHash('sha256').update(der).digest('base64url') : undefined;
}

export class PeerCertificateThumbprints {
  /** Encoded PEM -> thumbprint (undefined for text that holds no certificate); oldest first. */
  private readonly memo = new Map<string, string | undefined>();

  /** The certificate's x5t#S256, or undefined when the proxy's value holds no certificate. */
  thumbprint(certificate: PeerCertificate): string | undefined {
    if ('sha256Hex' in certificate) {
      return SHA256_HEX.test(certificate.sha256Hex) ? Buffer.from(certificate.sha256Hex, 'hex').toString('base64url') : undefined;
    }
    const key = certificate.urlEncodedPem;
    if (this.memo.has(key)) return this.memo.get(key);
    const thumbprint = thumbprintOfPem(key);
    if (this.memo.size >= MEMO_ENTRIES) this.memo.delete(this.memo.keys().next().value!);
    this.memo.set(key, thumbprint);
    return thumbprint;
  }
}
