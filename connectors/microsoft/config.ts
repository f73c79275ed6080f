/**
 * The `microsoft` connector's config block, with Dex's option names (connector/microsoft/microsoft.go
 * `Config`) so a Dex config moves over unchanged. Validated once, strictly, when the config is loaded.
 */
import { z } from 'zod';
import { redirectURIField, upstreamTimeoutField, upstreamURL } from '../upstream-config.js';

/** Tenants that stand for many directories; Graph cannot list groups through them. */
export const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

const noTrailingSlash = (url: string) => url.replace(/\/+$/, '');

export const microsoftConfigSchema = z
  .strictObject({
    clientID: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    /** A file holding a client assertion JWT (workload identity), sent instead of a secret; read on each use. */
    clientAssertion: z.string().min(1).optional(),
    redirectURI: redirectURIField,
    /** common, organizations, consumers, or the directory's ID or domain. */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, 'must be common, organizations, consumers, or a tenant ID or domain')
      .default('common'),
    onlySecurityGroups: z.boolean().default(false),
    /** Only members of one of these groups may sign in. */
    groups: z.array(z.string().min(1)).default([]),
    groupNameFormat: z.enum(['name', 'id'], { error: 'must be name or id' }).default('name'),
    /** Narrow the person's groups to `groups`. */
    useGroupsAsWhitelist: z.boolean().default(false),
    emailToLowercase: z.boolean().default(false),
    /** Resolve group names 1000 IDs per Graph request (the getByIds limit) instead of all in one. */
    batchGroupLookups: z.boolean().default(false),
    /** The Microsoft identity platform; national clouds and tests set their own. */
    apiURL: upstreamURL.default('https://login.microsoftonline.com').transform(noTrailingSlash),
    graphURL: upstreamURL.default('https://graph.microsoft.com').transform(noTrailingSlash),
    promptType: z.string().min(1).optional(),
    domainHint: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default([]),
    preferredUsernameField: z
      .enum(['name', 'email', 'mailNickname', 'onPremisesSamAccountName'], { error: 'must be name, email, mailNickname or onPremisesSamAccountName' })
      .optional(),
    upstreamTimeout: upstreamTimeoutField,
  })
  .superRefine((config, ctx) => {
    if (!config.clientSecret === !config.clientAssertion) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'set exactly one of clientSecret or clientAssertion' });
    }
    if (config.groups.length > 0 && MULTI_TENANT.has(config.tenant)) {
      // Dex skips the group check here, letting everyone in; a restriction that cannot hold is refused.
      ctx.addIssue({
        code: 'custom',
        path: ['groups'],
        message: `needs tenant set to the directory's ID or domain: groups cannot be read through the "${config.tenant}" tenant`,
      });
    }
  });

export type MicrosoftConfig = z.infer<typeof microsoftConfigSchema>;
