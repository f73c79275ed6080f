/**
 * The `saml` connector's config block: Dex's option names (connector/saml/saml.go) so a Dex config
 * moves over unchanged, plus what Dex lacks (signed AuthnRequests, encrypted assertions, IdP
 * metadata import, clock skew, refresh age). Validated once, strictly, with cross-field rules.
 */
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';
import { modifyGroupNamesSchema } from '../groups.js';

const NAMEID_FORMATS: Record<string, string> = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  X509SubjectName: 'urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName',
  WindowsDomainQualifiedName: 'urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName',
  encrypted: 'urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted',
  entity: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity',
  kerberos: 'urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos',
};

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const samlConfigSchema = z
  .strictObject({
    ssoURL: url.optional(),
    /** PEM file with one or more IdP signing certificates (several during a key rollover). */
    ca: z.string().min(1).optional(),
    /** The same bundle, base64-encoded (Dex's []byte). */
    caData: z.string().min(1).optional(),
    insecureSkipSignatureValidation: z
      .literal(false, { error: 'is not supported: idgate always validates SAML signatures' })
      .optional(),
    entityIssuer: z.string().min(1).optional(),
    ssoIssuer: z.string().min(1).optional(),
    redirectURI: url.optional(),
    usernameAttr: z.string().min(1),
    emailAttr: z.string().min(1),
    groupsAttr: z.string().min(1).optional(),
    groupsDelim: z.string().min(1).optional(),
    allowedGroups: z.array(z.string().min(1)).default([]),
    filterGroups: z.boolean().default(false),
    nameIDPolicyFormat: z
      .string()
      .default('persistent')
      .transform((format, ctx) => {
        if (format.startsWith('urn:')) return format;
        const full = NAMEID_FORMATS[format];
        if (!full) {
          ctx.addIssue({ code: 'custom', message: `unknown NameID format (expected a URN or one of: ${Object.keys(NAMEID_FORMATS).join(', ')})` });
          return z.NEVER;
        }
        return full;
      }),
    // Idgate additions.
    modifyGroupNames: modifyGroupNamesSchema.optional(),
    /** PEM files: the SP key and certificate that sign AuthnRequests (the certificate is in SP metadata). */
    signingKey: z.string().min(1).optional(),
    signingCert: z.string().min(1).optional(),
    /** PEM files: the SP key that decrypts EncryptedAssertions, and its certificate for SP metadata. */
    decryptionKey: z.string().min(1).optional(),
    decryptionCert: z.string().min(1).optional(),
    /** IdP metadata XML file: supplies ssoURL, ssoIssuer and signing certificates not set here. */
    idpMetadataFile: z.string().min(1).optional(),
    signatureAlgorithm: z.enum(['sha256', 'sha512']).default('sha256'),
    /** Accept responses signed or digested with SHA-1 (old IdPs); off by default. */
    insecureAllowSHA1: z.boolean().default(false),
    clockSkew: duration('30s'),
    /** How long after the SAML login a refresh still succeeds (refresh replays the login's identity). */
    refreshMaxAge: duration('24h'),
  })
  .superRefine((config, ctx) => {
    const sources = [config.ca && 'ca', config.caData && 'caData'].filter(Boolean);
    if (sources.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['caData'], message: 'set exactly one of ca or caData, not both' });
    }
    if (sources.length === 0 && !config.idpMetadataFile) {
      ctx.addIssue({ code: 'custom', path: ['ca'], message: 'one of ca or caData is required (or idpMetadataFile with signing certificates)' });
    }
    if (!config.ssoURL && !config.idpMetadataFile) {
      ctx.addIssue({ code: 'custom', path: ['ssoURL'], message: 'is required (or idpMetadataFile)' });
    }
    if (Boolean(config.signingKey) !== Boolean(config.signingCert)) {
      ctx.addIssue({ code: 'custom', path: ['signingCert'], message: 'signingKey and signingCert go together' });
    }
    if (config.decryptionCert && !config.decryptionKey) {
      ctx.addIssue({ code: 'custom', path: ['decryptionKey'], message: 'is required when decryptionCert is set' });
    }
    if (config.filterGroups && config.allowedGroups.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['filterGroups'], message: 'needs allowedGroups' });
    }
    if (config.allowedGroups.length > 0 && !config.groupsAttr) {
      ctx.addIssue({ code: 'custom', path: ['allowedGroups'], message: 'needs groupsAttr (the attribute that carries the groups)' });
    }
    if (config.groupsDelim && !config.groupsAttr) {
      ctx.addIssue({ code: 'custom', path: ['groupsDelim'], message: 'needs groupsAttr' });
    }
  });

export type SAMLConfig = z.infer<typeof samlConfigSchema>;
