/**
 * The `google` connector's config block, with Dex's option names (connector/google/google.go `Config`)
 * so a Dex config moves over unchanged, plus two idgate keys that point it at another Google (a test
 * server): `issuer` and `directoryURL`. Validated once, strictly, when the config is loaded.
 */
import { z } from 'zod';
import { redirectURIField, upstreamTimeoutField, upstreamURL } from '../upstream-config.js';

export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const GOOGLE_DIRECTORY = 'https://admin.googleapis.com';

export const googleConfigSchema = z
  .strictObject({
    clientID: z.string().min(1),
    clientSecret: z.string().min(1),
    redirectURI: redirectURIField,
    scopes: z.array(z.string().min(1)).default(['profile', 'email']),
    /** Only accounts of these Workspace domains (the ID token's `hd`) may sign in. */
    hostedDomains: z.array(z.string().min(1)).default([]),
    /** Only members of one of these groups (group emails) may sign in; needs the directory. */
    groups: z.array(z.string().min(1)).default([]),
    /** A service account key file (JSON) with domain-wide delegation, for the Admin SDK directory. */
    serviceAccountFilePath: z.string().min(1).optional(),
    /** Workspace domain -> the admin the service account acts as ("*": any domain). */
    domainToAdminEmail: z.record(z.string().min(1), z.email({ error: 'must be an email address' })).default({}),
    /** Dex's deprecated spelling of domainToAdminEmail: {"*": adminEmail}. */
    adminEmail: z.email({ error: 'must be an email address' }).optional(),
    fetchTransitiveGroupMembership: z.boolean().default(false),
    /** `prompt` sent when the client asked for offline access; "" sends none. */
    promptType: z.string().default('consent'),
    /** idgate, for tests only: the OpenID issuer to discover instead of accounts.google.com. */
    issuer: upstreamURL.default(GOOGLE_ISSUER),
    /** idgate, for tests only: the Admin SDK's origin instead of admin.googleapis.com. */
    directoryURL: upstreamURL.default(GOOGLE_DIRECTORY).transform((url) => url.replace(/\/+$/, '')),
    upstreamTimeout: upstreamTimeoutField,
  })
  .superRefine((config, ctx) => {
    const hasAdmins = Object.keys(adminEmails(config)).length > 0;
    if (config.serviceAccountFilePath && !hasAdmins) {
      ctx.addIssue({ code: 'custom', path: ['domainToAdminEmail'], message: 'is required with serviceAccountFilePath (the admin the service account acts as)' });
    }
    if (hasAdmins && !config.serviceAccountFilePath) {
      ctx.addIssue({
        code: 'custom',
        path: ['serviceAccountFilePath'],
        message: 'is required with domainToAdminEmail (application default credentials are not supported)',
      });
    }
    if (config.groups.length > 0 && !config.serviceAccountFilePath) {
      ctx.addIssue({ code: 'custom', path: ['groups'], message: 'needs serviceAccountFilePath and domainToAdminEmail: groups are read from the Admin SDK directory' });
    }
  });

export type GoogleConfig = z.infer<typeof googleConfigSchema>;

/** domainToAdminEmail with Dex's deprecated adminEmail as its "*" entry. */
export function adminEmails(config: Pick<GoogleConfig, 'adminEmail' | 'domainToAdminEmail'>): Record<string, string> {
  return config.adminEmail ? { '*': config.adminEmail, ...config.domainToAdminEmail } : config.domainToAdminEmail;
}
