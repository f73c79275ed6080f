/**
 * Validates a SAMLResponse as a pipeline of small named checks, each refusing with its own reason:
 * strict XML (no DOCTYPE, comments or processing instructions, bounded depth and size), one assertion
 * as a direct child of the Response (no wrapping), a signature that vouches for it (the assertion's
 * own, or — as Dex accepts, and Keycloak sends by default — the Response's enveloped signature),
 * allowed algorithms, trusted certificate, Destination; then node-saml verifies the signatures,
 * Audience and validity window, and the rest (ID, Recipient, InResponseTo, Issuer) is read from the
 * signed content only (node-saml hands back what the signature covered, never the raw document).
 */
import { SAML, type Profile, type SamlConfig } from '@node-saml/node-saml';
import type { Element } from '@xmldom/xmldom';
import { ConnectorError } from '../../src/connector.js';
import { NODE, NS, SAML_XML_LIMITS, certificateBody, checkShape, children, descendants, isElement, parseXml, textOf, walk } from './xml.js';

export interface ResponsePolicy {
  /** Our ACS URL: Destination and Recipient must name it. */
  redirectURI: string;
  /** base64 bodies of the trusted IdP signing certificates. */
  trustedCertificates: Set<string>;
  allowSHA1: boolean;
  /** Expected Issuer of the assertion, when configured. */
  ssoIssuer?: string;
  entityIssuer: string;
}

export interface SignedAssertion {
  profile: Profile;
  assertionId: string;
  inResponseTo: string;
  /** When the assertion stops being usable (replay records are kept until then). */
  notOnOrAfter?: number;
}

const MAX_RESPONSE_BYTES = 512 * 1024;
const SHA1 = new Set(['http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#sha1', 'http://www.w3.org/2000/09/xmldsig#dsa-sha1']);
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

export function refuse(reason: string, cause?: unknown): ConnectorError {
  return new ConnectorError('invalid_response', reason, cause === undefined ? undefined : { cause });
}

function decodeResponse(samlResponse: string): string {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) throw refuse('the SAMLResponse is not base64');
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  if (xml.length > MAX_RESPONSE_BYTES) throw refuse('the SAML response is too large');
  // Entity declarations enable expansion attacks; SAML never needs a DOCTYPE.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw refuse('the SAML response contains a DOCTYPE, which is refused');
  return xml;
}

function parseResponse(xml: string): Element {
  let root: Element | null;
  try {
    root = parseXml(xml).documentElement;
  } catch (error) {
    throw refuse(`the SAML response is not well-formed XML`, error);
  }
  if (!isElement(root, NS.protocol, 'Response')) throw refuse('the message is not a SAML 2.0 Response');
  try {
    checkShape(root, SAML_XML_LIMITS);
  } catch (error) {
    throw refuse(`the SAML response is refused: ${(error as Error).message}`);
  }
  return root;
}

/** Comments inside signed content survive canonicalization unseen (NameID truncation attacks). */
function checkNoCommentsOrInstructions(response: Element): void {
  for (const node of walk(response)) {
    if (node.nodeType === NODE.comment) throw refuse('the SAML response contains an XML comment, which is refused (comment injection)');
    if (node.nodeType === NODE.processingInstruction) throw refuse('the SAML response contains a processing instruction, which is refused');
  }
}

function checkStatus(response: Element): void {
  const status = children(response, NS.protocol, 'Status')[0];
  const code = status && children(status, NS.protocol, 'StatusCode')[0]?.getAttribute('Value');
  if (code && code !== 'urn:oasis:names:tc:SAML:2.0:status:Success') {
    const message = textOf(children(status, NS.protocol, 'StatusMessage')[0]);
    throw new ConnectorError('upstream_error', `the identity provider reported ${code.split(':').pop()}${message ? `: ${message}` : ''}`);
  }
}

/** Exactly one (possibly encrypted) assertion, and it is the Response's own child: no wrapping. */
function checkSingleAssertion(response: Element): Element {
  // By local name in any namespace: node-saml selects assertions by local-name() too.
  const found = [...walk(response)].filter(
    (node): node is Element => isElement(node) && (node.localName === 'Assertion' || node.localName === 'EncryptedAssertion'),
  );
  if (found.length === 0) throw refuse('the SAML response carries no assertion');
  if (found.length > 1) throw refuse(`the SAML response carries ${found.length} assertions; exactly one is accepted (signature wrapping)`);
  const assertion = found[0]!;
  if (assertion.parentNode !== response) throw refuse('the assertion is not a direct child of the Response (signature wrapping)');
  if (assertion.namespaceURI !== NS.assertion) throw refuse('the assertion is not in the SAML 2.0 assertion namespace');
  return assertion;
}

/**
 * What vouches for the assertion: its own signature, or the Response's (then node-saml reads the
 * assertion from the signed Response and requires no second signature). An encrypted assertion
 * without a Response signature must be signed inside (checked after decryption).
 */
export type SignatureScope = { assertion: boolean; response: boolean };

function checkSigned(response: Element, assertion: Element): SignatureScope {
  const responseSigned = children(response, NS.dsig, 'Signature').length > 0;
  const assertionSigned = assertion.localName === 'Assertion' && children(assertion, NS.dsig, 'Signature').length > 0;
  if (!responseSigned && !assertionSigned && assertion.localName === 'Assertion') throw refuse('the SAML response is not signed');
  return { response: responseSigned, assertion: assertionSigned || !responseSigned };
}

/** Only the XML-DSig algorithms count (an EncryptedKey's OAEP digest is not a signature). */
function checkAlgorithms(response: Element, allowSHA1: boolean): void {
  if (allowSHA1) return;
  for (const signature of descendants(response, NS.dsig, 'Signature')) {
    for (const local of ['SignatureMethod', 'DigestMethod']) {
      for (const method of descendants(signature, NS.dsig, local)) {
        if (SHA1.has(method.getAttribute('Algorithm') ?? '')) throw refuse(`the SAML response is signed with SHA-1 (${local}), which is refused`);
      }
    }
  }
}

/** A certificate embedded in KeyInfo must be one we trust (else the signature check would also fail, less clearly). */
function checkSigningCertificates(response: Element, trusted: Set<string>): void {
  for (const signature of descendants(response, NS.dsig, 'Signature')) {
    for (const certificate of descendants(signature, NS.dsig, 'X509Certificate')) {
      if (!trusted.has(certificateBody(certificate.textContent ?? ''))) {
        throw refuse('the SAML response is signed with a certificate that is not trusted (not in ca/caData or the IdP metadata)');
      }
    }
  }
}

function checkDestination(response: Element, redirectURI: string): void {
  const destination = response.getAttribute('Destination');
  if (!destination) throw refuse('the SAML response has no Destination');
  if (destination !== redirectURI) throw refuse(`wrong Destination: the response is addressed to ${destination}, not ${redirectURI}`);
}

/**
 * node-saml: XML-DSig over what `scope` says is signed (every signature present must verify: a Response
 * signature that fails is refused even beside a valid assertion signature), Audience, validity window.
 */
async function verifySignedAssertion(options: SamlConfig, scope: SignatureScope, samlResponse: string, policy: ResponsePolicy): Promise<Profile> {
  let profile: Profile | null;
  try {
    const saml = new SAML({ ...options, wantAuthnResponseSigned: scope.response, wantAssertionsSigned: scope.assertion });
    ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if ((error as Error).name === 'SamlStatusError') throw new ConnectorError('upstream_error', `the identity provider reported: ${message}`, { cause: error });
    if (/Referenced node|refer to more than one|signature reference/i.test(message)) {
      throw refuse('a signature does not cover the element that carries it (signature wrapping)', error);
    }
    if (/Invalid document signature/i.test(message)) throw refuse('the Response signature is not valid (changed after signing, or signed by another key)', error);
    if (/audience/i.test(message)) throw refuse(`wrong Audience: the assertion is not meant for ${policy.entityIssuer}`, error);
    if (/not yet valid/i.test(message)) throw refuse('the assertion is not yet valid (NotBefore is in the future)', error);
    if (/expired/i.test(message)) throw refuse('the assertion has expired (NotOnOrAfter has passed)', error);
    if (/multiple assertions/i.test(message)) throw refuse('the SAML response carries several assertions (signature wrapping)', error);
    if (/signature/i.test(message)) throw refuse('the assertion signature is not valid (changed after signing, or signed by another key)', error);
    if (/decrypt|EncryptedAssertion/i.test(message)) throw refuse(`the encrypted assertion could not be decrypted: ${message}`, error);
    throw refuse(`the SAML response was refused: ${message}`, error);
  }
  if (!profile) throw refuse('the SAML response carries no login');
  return profile;
}

function timeOf(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Reads ID, Issuer, Recipient and InResponseTo from the signed assertion only. */
function readSignedAssertion(profile: Profile, response: Element, policy: ResponsePolicy): SignedAssertion {
  const xml = profile.getAssertionXml?.();
  if (!xml) throw refuse('the signed assertion could not be read');
  const assertion = parseXml(xml).documentElement!;
  const assertionId = assertion.getAttribute('ID');
  if (!assertionId) throw refuse('the assertion has no ID');
  const issuer = textOf(children(assertion, NS.assertion, 'Issuer')[0]);
  if (policy.ssoIssuer && issuer !== policy.ssoIssuer) {
    throw refuse(`the assertion was issued by ${issuer ?? 'nobody'}, not by the configured ssoIssuer ${policy.ssoIssuer}`);
  }
  const subject = children(assertion, NS.assertion, 'Subject')[0];
  const bearer = subject && children(subject, NS.assertion, 'SubjectConfirmation').find((c) => c.getAttribute('Method') === BEARER);
  const data = bearer && children(bearer, NS.assertion, 'SubjectConfirmationData')[0];
  if (!data) throw refuse('the assertion has no bearer SubjectConfirmationData');
  const recipient = data.getAttribute('Recipient');
  if (recipient !== policy.redirectURI) throw refuse(`wrong Recipient: the assertion is for ${recipient || 'no recipient'}, not ${policy.redirectURI}`);
  const inResponseTo = data.getAttribute('InResponseTo');
  if (!inResponseTo) throw refuse('the assertion answers no request of ours (IdP-initiated login is not supported)');
  const outer = response.getAttribute('InResponseTo');
  if (outer && outer !== inResponseTo) throw refuse('the Response and its assertion name different requests (InResponseTo)');
  const conditions = children(assertion, NS.assertion, 'Conditions')[0];
  const limits = [timeOf(conditions?.getAttribute('NotOnOrAfter')), timeOf(data.getAttribute('NotOnOrAfter'))].filter((t) => t !== undefined);
  return { profile, assertionId, inResponseTo, notOnOrAfter: limits.length ? Math.min(...limits) : undefined };
}

export async function validateResponse(options: SamlConfig, samlResponse: string, policy: ResponsePolicy): Promise<SignedAssertion> {
  const response = parseResponse(decodeResponse(samlResponse));
  checkNoCommentsOrInstructions(response);
  checkStatus(response);
  const assertion = checkSingleAssertion(response);
  const scope = checkSigned(response, assertion);
  checkAlgorithms(response, policy.allowSHA1);
  checkSigningCertificates(response, policy.trustedCertificates);
  checkDestination(response, policy.redirectURI);
  const profile = await verifySignedAssertion(options, scope, samlResponse, policy);
  return readSignedAssertion(profile, response, policy);
}
