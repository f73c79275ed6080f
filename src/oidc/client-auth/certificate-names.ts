/**
 * The names a client certificate carries, as tls_client_auth compares them (RFC 8705 §2.1.2): the
 * subject DN against an RFC 4514 string, or one subjectAltName entry (dNSName, URI, iPAddress,
 * rfc822Name) against the registered value. DNs are compared RDN by RDN, attribute types by name or
 * OID, values case-insensitively with insignificant spaces (RFC 4517 caseIgnoreMatch, simplified);
 * a multi-valued RDN as a set. Node parses the certificate; this module only reads its names.
 */
import type { X509Certificate } from 'node:crypto';

/** One attribute of an RDN, canonical: a lower-case type name (or dotted OID) and the folded value. */
type Attribute = `${string}=${string}`;

/** A DN as canonical RDNs, most specific first (RFC 4514 order); each RDN's attributes sorted. */
export type DistinguishedName = readonly (readonly Attribute[])[];

/** The subject alternative name kinds tls_client_auth may name, by their client metadata key. */
export const SAN_KINDS = {
  tlsClientAuthSANDNS: 'dNSName',
  tlsClientAuthSANURI: 'uniformResourceIdentifier',
  tlsClientAuthSANIP: 'iPAddress',
  tlsClientAuthSANEmail: 'rfc822Name',
} as const;

export type SanKind = keyof typeof SAN_KINDS;

/** Attribute type names and OIDs that mean the same attribute, mapped to the short name OpenSSL prints. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'cn', commonname: 'cn',
  '2.5.4.6': 'c', countryname: 'c',
  '2.5.4.10': 'o', organizationname: 'o',
  '2.5.4.11': 'ou', organizationalunitname: 'ou',
  '2.5.4.7': 'l', localityname: 'l',
  '2.5.4.8': 'st', stateorprovincename: 'st', s: 'st',
  '2.5.4.9': 'street', streetaddress: 'street',
  '0.9.2342.19200300.100.1.25': 'dc', domaincomponent: 'dc',
  '0.9.2342.19200300.100.1.1': 'uid', userid: 'uid',
  '1.2.840.113549.1.9.1': 'emailaddress', e: 'emailaddress', email: 'emailaddress',
  '2.5.4.5': 'serialnumber',
  '2.5.4.4': 'sn', surname: 'sn',
  '2.5.4.42': 'gn', givenname: 'gn',
  '2.5.4.12': 'title',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationqualifier',
  '2.5.4.46': 'dnqualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationidentifier',
};

const TYPE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;

function canonicalType(type: string): string {
  const lower = type.trim().toLowerCase();
  if (!TYPE_NAME.test(lower)) throw new Error(`"${type.trim()}" is not an attribute type (a name such as CN, or a dotted OID)`);
  return TYPE_ALIASES[lower] ?? lower;
}

/** caseIgnoreMatch, simplified: no surrounding spaces, runs of spaces as one, Unicode case folded. */
function canonicalValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Reads `text` as RDNs separated by `separator` (',' in RFC 4514 strings, '\n' in Node's `subject`),
 * attributes of one RDN by '+', each `type=value` with RFC 4514 escapes (`\,` or `\2C`). A hex-encoded
 * value (`#04...`) is refused: it names the BER encoding, which this comparison does not read.
 */
function parseRdns(text: string, separator: ',' | '\n'): Attribute[][] {
  if (text.trim() === '') throw new Error('the DN is empty');
  const rdns: Attribute[][] = [];
  let rdn: Attribute[] = [];
  let typeStart = 0;
  let type: string | undefined;
  let bytes: number[] = [];
  const finishAttribute = () => {
    if (type === undefined) throw new Error('an attribute has no "=" (write type=value)');
    rdn.push(`${canonicalType(type)}=${canonicalValue(Buffer.from(bytes).toString('utf8'))}`);
    type = undefined;
    bytes = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (type === undefined) {
      if (c === '=') type = text.slice(typeStart, i);
      else if (c === separator || c === '+' || c === '\\') throw new Error('an attribute has no "=" (write type=value)');
      continue;
    }
    if (c === '\\') {
      const hex = text.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else if (i + 1 < text.length) {
        bytes.push(...Buffer.from(text[i + 1]!, 'utf8'));
        i += 1;
      } else {
        throw new Error('the DN ends in a lone "\\"');
      }
    } else if (c === '+' || c === separator) {
      finishAttribute();
      typeStart = i + 1;
      if (c === separator) {
        rdns.push(rdn.sort());
        rdn = [];
      }
    } else if (c === '#' && bytes.every((byte) => byte === 0x20)) {
      throw new Error(`the value of ${type.trim()} is hex-encoded (#...); write it as a string`);
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  finishAttribute();
  rdns.push(rdn.sort());
  return rdns;
}

/** An RFC 4514 DN string (`CN=client,O=Example Corp,C=US`), canonical; throws with the reason if malformed. */
export function parseDistinguishedName(text: string): DistinguishedName {
  return parseRdns(text, ',');
}

/**
 * The certificate's subject DN, canonical. Node prints it one RDN a line, most significant first, with
 * RFC 2253 escapes and ` + ` between the attributes of a multi-valued RDN; RFC 4514 order is reversed.
 */
export function certificateSubject(certificate: X509Certificate): DistinguishedName {
  return parseRdns(certificate.subject, '\n').reverse();
}

export function sameDistinguishedName(a: DistinguishedName, b: DistinguishedName): boolean {
  return a.length === b.length && a.every((rdn, i) => rdn.length === b[i]!.length && rdn.every((attribute, j) => attribute === b[i]![j]));
}

/**
 * The URI entries of the certificate's subjectAltName. Node writes `TYPE:value` entries separated by
 * ", ", and a value holding a separator or quote as a JSON string, so the entries split unambiguously.
 */
function uriEntries(certificate: X509Certificate): string[] {
  const text = certificate.subjectAltName ?? '';
  const uris: string[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      end += 1;
    } else {
      end = text.indexOf(', ', colon);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    if (kind === 'URI') uris.push(value);
    i = end + 2;
  }
  return uris;
}

/** Whether the certificate's subjectAltName has the entry of `kind` the client registered, exactly. */
export function hasSubjectAltName(certificate: X509Certificate, kind: SanKind, expected: string): boolean {
  switch (kind) {
    case 'tlsClientAuthSANDNS':
      return certificate.checkHost(expected, { subject: 'never', wildcards: false, partialWildcards: false }) !== undefined;
    case 'tlsClientAuthSANIP':
      return certificate.checkIP(expected) !== undefined;
    case 'tlsClientAuthSANEmail':
      return certificate.checkEmail(expected, { subject: 'never' }) !== undefined;
    case 'tlsClientAuthSANURI':
      return uriEntries(certificate).includes(expected);
  }
}
