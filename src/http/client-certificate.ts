/**
 * The client certificate of an issuer request (RFC 8705), from the one place it may come from:
 * - the HTTPS listener's own handshake (asked for when web.tlsClientCA is set, never required), whose
 *   chain Node verified against web.tlsClientCA or not (a self-signed certificate arrives unverified);
 * - a TLS-terminating proxy, believed only when the socket is one of web.clientRemoteIP.trustedProxies:
 *   Envoy's x-forwarded-client-cert under the filter's rules (web.clientCertificate.xfcc: the element the
 *   proxy wrote, `Cert=` and/or `Hash=`), or the header nginx sets to $ssl_client_escaped_cert. A
 *   forwarded certificate counts as chained to web.tlsClientCA only when one of those CAs issued it
 *   (checked here: validity, signature, CA flag, clientAuth usage), whatever the proxy verified.
 * Either way the TLS handshake proved the client holds the certificate's key.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { Context } from 'koa';
import { trustedXfccElement, type XfccElement, type XfccTrust } from '../authz/peer/xfcc.js';
import { compileIpMatcher } from '../authz/policy/ip-match.js';
import type { Config } from '../config/load.js';

export interface ClientCertificate {
  /** RFC 8705 §3.1 x5t#S256: base64url SHA-256 of the DER. */
  thumbprint: string;
  /** The certificate; absent when a proxy forwarded only its hash (XFCC `Hash=` without `Cert=`). */
  certificate?: X509Certificate;
  /** A CA in web.tlsClientCA issued it (the handshake's verification, or ours for a forwarded one). */
  chainVerified: boolean;
}

export type ClientCertificateReader = (ctx: Context) => ClientCertificate | undefined;

const CLIENT_AUTH_USAGE = '1.3.6.1.5.5.7.3.2';
const ANY_USAGE = '2.5.29.37.0';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle; throws unless it holds at least one and each parses. */
export function parseCertificateBundle(pem: Buffer | string): X509Certificate[] {
  const blocks = pem.toString().match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in it');
  return blocks.map((block) => new X509Certificate(block));
}

export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

function validAt(certificate: X509Certificate, now: number): boolean {
  return Date.parse(certificate.validFrom) <= now && now <= Date.parse(certificate.validTo);
}

/** One of `cas` issued `certificate` directly, both are valid now, and it may authenticate a TLS client. */
function issuedByTrustedCA(certificate: X509Certificate, cas: readonly X509Certificate[], now: number): boolean {
  if (certificate.ca || !validAt(certificate, now)) return false;
  const usages = certificate.keyUsage;
  if (usages !== undefined && !usages.includes(CLIENT_AUTH_USAGE) && !usages.includes(ANY_USAGE)) return false;
  return cas.some((ca) => ca.ca && validAt(ca, now) && certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
}

function fromTls(ctx: Context): ClientCertificate | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return undefined;
  return { thumbprint: certificateThumbprint(certificate.raw), certificate, chainVerified: socket.authorized === true };
}

/** A URL-encoded PEM (XFCC `Cert=`, nginx's $ssl_client_escaped_cert); undefined if it is not one certificate. */
function decodeEscapedPem(value: string): X509Certificate | undefined {
  try {
    const certificates = parseCertificateBundle(decodeURIComponent(value));
    return certificates.length === 1 ? certificates[0] : undefined;
  } catch {
    return undefined;
  }
}

function forwarded(certificate: X509Certificate, cas: readonly X509Certificate[], now: number): ClientCertificate {
  return { thumbprint: certificateThumbprint(certificate.raw), certificate, chainVerified: issuedByTrustedCA(certificate, cas, now) };
}

/** The trusted element's certificate; a `Hash=` that is not the hash of its `Cert=` makes it none. */
function fromXfccElement(element: XfccElement, cas: readonly X509Certificate[], now: number): ClientCertificate | undefined {
  const value = (key: string) => element.find(([k, v]) => k === key && v !== '')?.[1];
  const hash = value('hash')?.toLowerCase();
  const pem = value('cert');
  if (pem !== undefined) {
    const certificate = decodeEscapedPem(pem);
    if (!certificate) return undefined;
    if (hash !== undefined && createHash('sha256').update(certificate.raw).digest('hex') !== hash) return undefined;
    return forwarded(certificate, cas, now);
  }
  if (hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return { thumbprint: Buffer.from(hash, 'hex').toString('base64url'), chainVerified: false };
}

/**
 * The reader for this config; reads web.tlsClientCA once (throws, naming it, if it does not load).
 * `now` decides the validity of forwarded certificates.
 */
export function createClientCertificateReader(config: Config, now: () => number): ClientCertificateReader {
  const { tlsClientCA, clientCertificate } = config.web;
  let cas: X509Certificate[] = [];
  if (tlsClientCA) {
    try {
      cas = parseCertificateBundle(readFileSync(tlsClientCA));
    } catch (error) {
      throw new Error(`web.tlsClientCA: ${tlsClientCA} is not a CA certificate bundle (${(error as Error).message})`, { cause: error });
    }
  }
  const isTrustedProxy = compileIpMatcher(config.web.clientRemoteIP?.trustedProxies ?? []);
  const xfcc: XfccTrust | undefined = clientCertificate && clientCertificate.xfcc.forwardClientCertDetails !== 'SANITIZE'
    ? { trustedBy: new Set(clientCertificate.xfcc.trustedBy), forwardClientCertDetails: clientCertificate.xfcc.forwardClientCertDetails }
    : undefined;
  const header = clientCertificate?.header?.toLowerCase();
  return (ctx) => {
    const direct = fromTls(ctx);
    if (direct) return direct;
    if ((!xfcc && !header) || !isTrustedProxy(ctx.req.socket.remoteAddress)) return undefined;
    if (xfcc) {
      const element = trustedXfccElement(ctx.get('x-forwarded-client-cert') || undefined, xfcc);
      return element ? fromXfccElement(element, cas, now()) : undefined;
    }
    const escaped = ctx.get(header!);
    const certificate = escaped ? decodeEscapedPem(escaped) : undefined;
    return certificate ? forwarded(certificate, cas, now()) : undefined;
  };
}
