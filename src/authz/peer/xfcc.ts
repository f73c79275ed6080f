/**
 * x-forwarded-client-cert parsing (Envoy's grammar: comma-separated elements, one per hop; each a
 * semicolon-separated list of Key=Value, keys case-insensitive, values optionally double-quoted), and
 * the trust rule. `By=` is public (a proxy's own SPIFFE ID), so it proves nothing by itself: the header
 * is believed only when the config says the trusted proxy overwrites it (forwardClientCertDetails
 * SANITIZE_SET: exactly one element, the proxy's) or appends to it (APPEND_FORWARD: the last element is
 * the proxy's), and that element's By= is in trustedBy. SANITIZE (the default): never believed. The
 * same element gives the peer identity (URI=) and the client certificate (Hash=, Cert=).
 */
import type { PeerCertificate } from '../check-input.js';

export type XfccElement = Array<[key: string, value: string]>;

/** Splits on `separator` outside double quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\"/g, '"') : value;
}

export function parseXfcc(header: string): XfccElement[] {
  return splitOutsideQuotes(header, ',').map((element) =>
    splitOutsideQuotes(element, ';').flatMap((pair): Array<[string, string]> => {
      const eq = pair.indexOf('=');
      return eq === -1 ? [] : [[pair.slice(0, eq).trim().toLowerCase(), unquote(pair.slice(eq + 1).trim())]];
    }),
  );
}

export interface XfccTrust {
  trustedBy: ReadonlySet<string>;
  /** How the trusted proxy writes the header (Istio's gatewayTopology.forwardClientCertDetails names). */
  forwardClientCertDetails: 'SANITIZE' | 'SANITIZE_SET' | 'APPEND_FORWARD';
}

/** The element the trusted proxy wrote, or undefined when the header is not to be believed. */
export function trustedXfccElement(header: string | undefined, trust: XfccTrust): XfccElement | undefined {
  if (!header || trust.forwardClientCertDetails === 'SANITIZE' || trust.trustedBy.size === 0) return undefined;
  const elements = parseXfcc(header);
  if (trust.forwardClientCertDetails === 'SANITIZE_SET' && elements.length !== 1) return undefined;
  const last = elements[elements.length - 1];
  if (!last || !last.some(([k, v]) => k === 'by' && trust.trustedBy.has(v))) return undefined;
  return last;
}

/** The client URI SAN the trusted proxy wrote, or undefined when the header is not to be believed. */
export function peerFromXfcc(header: string | undefined, trust: XfccTrust): string | undefined {
  const element = trustedXfccElement(header, trust);
  return element ? peerFromXfccElement(element) : undefined;
}

/** A trusted element's first non-empty URI SAN: the peer identity. */
export function peerFromXfccElement(element: XfccElement): string | undefined {
  return element.find(([k, v]) => k === 'uri' && v !== '')?.[1];
}

/**
 * The client certificate in a trusted element, for certificate-bound tokens: `Hash=` (hex SHA-256 of
 * the DER, which Envoy always writes) when present, else `Cert=` (URL-encoded PEM: Envoy with
 * `cert: true`, nginx's $ssl_client_escaped_cert). An empty value is no certificate.
 */
export function certificateOf(element: XfccElement): PeerCertificate | undefined {
  const hash = element.find(([k, v]) => k === 'hash' && v !== '')?.[1];
  if (hash !== undefined) return { sha256Hex: hash };
  const cert = element.find(([k, v]) => k === 'cert' && v !== '')?.[1];
  return cert === undefined ? undefined : { urlEncodedPem: cert };
}
