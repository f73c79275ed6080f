/**
 * SAML metadata both ways: import an IdP's EntityDescriptor (SSO URL for the HTTP-POST binding,
 * entity ID, signing certificates) and resolve the trusted certificate set from ca / caData / the
 * metadata, so the connector knows whom to trust before the first login.
 */
import { readFileSync } from 'node:fs';
import { ConnectorError } from '../../src/connector.js';
import type { SAMLConfig } from './config.js';
import { NS, certificateBody, children, descendants, isElement, parseXml, splitPemBundle, toPem } from './xml.js';

const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export interface IdPMetadata {
  entityID?: string;
  ssoURL?: string;
  certificates: string[];
}

export function parseIdPMetadata(xml: string, source: string): IdPMetadata {
  const root = parseXml(xml).documentElement;
  const entity = isElement(root, NS.metadata, 'EntityDescriptor')
    ? root
    : isElement(root, NS.metadata, 'EntitiesDescriptor')
      ? descendants(root, NS.metadata, 'EntityDescriptor').find((e) => children(e, NS.metadata, 'IDPSSODescriptor').length > 0)
      : undefined;
  const idp = entity && children(entity, NS.metadata, 'IDPSSODescriptor')[0];
  if (!entity || !idp) throw new ConnectorError('misconfigured', `${source} holds no IdP EntityDescriptor (IDPSSODescriptor)`);
  const sso = children(idp, NS.metadata, 'SingleSignOnService').find((s) => s.getAttribute('Binding') === POST_BINDING);
  const certificates = children(idp, NS.metadata, 'KeyDescriptor')
    .filter((key) => (key.getAttribute('use') || 'signing') === 'signing')
    .flatMap((key) => descendants(key, NS.dsig, 'X509Certificate'))
    .map((cert) => toPem(cert.textContent ?? ''));
  return { entityID: entity.getAttribute('entityID') || undefined, ssoURL: sso?.getAttribute('Location') || undefined, certificates };
}

export interface ResolvedIdP {
  ssoURL: string;
  ssoIssuer?: string;
  /** PEM certificates trusted to sign responses. */
  certificates: string[];
}

/** Merges the explicit options with the IdP metadata file (explicit options win; certificates add up). */
export function resolveIdP(config: SAMLConfig): ResolvedIdP {
  const read = (file: string, option: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConnectorError('misconfigured', `${option}: cannot read ${file} (${(error as Error).message})`, { cause: error });
    }
  };
  const metadata = config.idpMetadataFile
    ? parseIdPMetadata(read(config.idpMetadataFile, 'idpMetadataFile'), config.idpMetadataFile)
    : { certificates: [] };
  const bundle = config.ca ? read(config.ca, 'ca') : config.caData ? Buffer.from(config.caData, 'base64').toString('utf8') : '';
  const explicit = splitPemBundle(bundle);
  if (bundle && explicit.length === 0) {
    throw new ConnectorError('misconfigured', `${config.ca ? 'ca' : 'caData'} holds no PEM certificate`);
  }
  const certificates = [...explicit, ...metadata.certificates];
  if (certificates.length === 0) throw new ConnectorError('misconfigured', 'no IdP signing certificate: set ca, caData or idpMetadataFile');
  const ssoURL = config.ssoURL ?? metadata.ssoURL;
  if (!ssoURL) throw new ConnectorError('misconfigured', 'no ssoURL: set it or give IdP metadata with an HTTP-POST SingleSignOnService');
  return { ssoURL, ssoIssuer: config.ssoIssuer ?? metadata.entityID, certificates };
}

export function certificateSet(pems: string[]): Set<string> {
  return new Set(pems.map(certificateBody));
}
