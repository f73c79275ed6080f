/**
 * A SAML IdP for the SAML connector's tests: its own RSA key and certificate generated here with
 * openssl, responses built as XML and signed with xml-crypto (enveloped, exc-c14n, RSA-SHA256), and
 * knobs to produce every malformed or hostile variant of the attack corpus.
 */
import { execFile } from 'node:child_process';
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignedXml } from 'xml-crypto';

const run = promisify(execFile);

export interface KeyPair {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** Generates keys in one temp dir; `cleanup` removes it. */
export async function keyFactory(): Promise<{ make(cn: string): Promise<KeyPair>; dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'idgate-saml-'));
  return {
    dir,
    async make(cn) {
      const keyFile = join(dir, `${cn}-key.pem`);
      const certFile = join(dir, `${cn}-cert.pem`);
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${cn}`]);
      return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8'), keyFile, certFile };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export const IDP_ENTITY = 'https://idp.example.test/metadata';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface AssertionOptions {
  id?: string;
  issuer?: string;
  nameId?: string;
  audience?: string;
  recipient?: string;
  inResponseTo?: string | null;
  notBefore?: Date;
  notOnOrAfter?: Date;
  attributes?: Record<string, string[]>;
}

const iso = (date: Date) => date.toISOString();
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

export function assertionXml(o: AssertionOptions & { audience: string; recipient: string }): string {
  const now = Date.now();
  const notBefore = o.notBefore ?? new Date(now - 60_000);
  const notOnOrAfter = o.notOnOrAfter ?? new Date(now + 5 * 60_000);
  const inResponseTo = o.inResponseTo === null ? '' : ` InResponseTo="${o.inResponseTo ?? ''}"`;
  const attributes = Object.entries(o.attributes ?? {})
    .map(([name, values]) => `<saml:Attribute Name="${name}">${values.map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
    .join('');
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${o.id ?? `_a${randomBytes(16).toString('hex')}`}" Version="2.0" IssueInstant="${iso(new Date(now))}">` +
    `<saml:Issuer>${o.issuer ?? IDP_ENTITY}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${o.nameId ?? 'alice-persistent-id'}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${inResponseTo} NotOnOrAfter="${iso(notOnOrAfter)}" Recipient="${o.recipient}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${o.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(new Date(now))}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
    `</saml:Assertion>`
  );
}

/** Enveloped signature over the root element, placed after its Issuer (as SAML requires). */
export function signRoot(xml: string, pair: KeyPair, options: { sha1?: boolean; keyInfo?: boolean } = {}): string {
  const root = xml.startsWith('<samlp:Response') ? 'Response' : 'Assertion';
  const sig = new SignedXml({
    privateKey: pair.key,
    publicCert: options.keyInfo === false ? undefined : pair.cert,
    signatureAlgorithm: options.sha1 ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: `/*[local-name(.)='${root}']`,
    digestAlgorithm: options.sha1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : SHA256,
    transforms: [ENVELOPED, EXC_C14N],
  });
  sig.computeSignature(xml, { location: { reference: `/*[local-name(.)='${root}']/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

export interface ResponseOptions {
  destination?: string | null;
  inResponseTo?: string | null;
  status?: string;
  /** The Response's children after Issuer/Status: one or more (signed) assertions, or anything else. */
  body: string;
}

export function responseXml(o: ResponseOptions): string {
  const destination = o.destination === null ? '' : ` Destination="${o.destination}"`;
  const inResponseTo = o.inResponseTo ? ` InResponseTo="${o.inResponseTo}"` : '';
  const status = o.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success';
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${new Date().toISOString()}"${destination}${inResponseTo}>` +
    `<saml:Issuer>${IDP_ENTITY}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${status}"/></samlp:Status>` +
    o.body +
    `</samlp:Response>`
  );
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

export function metadataXml(entityID: string, ssoURL: string, certs: string[]): string {
  const keys = certs
    .map((cert) => cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''))
    .map((body) => `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
    .join('');
  return (
    `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityID}">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoURL}/redirect"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${ssoURL}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}

/** XML Encryption of an (already signed) assertion for the SP's certificate: AES-256-GCM, RSA-OAEP key transport. */
export function encryptAssertion(signedAssertion: string, spCert: string): string {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const encrypted = Buffer.concat([iv, cipher.update(signedAssertion, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  const wrappedKey = publicEncrypt({ key: spCert, padding: constants.RSA_PKCS1_OAEP_PADDING }, key);
  return (
    `<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">` +
    `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>` +
    `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>` +
    `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod>` +
    `<xenc:CipherData><xenc:CipherValue>${wrappedKey.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
    `<xenc:CipherData><xenc:CipherValue>${encrypted.toString('base64')}</xenc:CipherValue></xenc:CipherData>` +
    `</xenc:EncryptedData></saml:EncryptedAssertion>`
  );
}
