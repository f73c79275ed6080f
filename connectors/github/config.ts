/**
 * The `github` connector's config block, with Dex's option names (connector/github/github.go
 * `Config`) so a Dex config moves over unchanged. Validated once, strictly, when the config is loaded.
 */
import { z } from 'zod';
import { redirectURIField, upstreamTimeoutField } from '../upstream-config.js';

const orgSchema = z.strictObject({
  /** The organization's login, as in github.com/<name>. */
  name: z.string().min(1),
  /** Teams of the org that may sign in; empty: every member of the org. */
  teams: z.array(z.string().min(1)).default([]),
});

export const githubConfigSchema = z
  .strictObject({
    clientID: z.string().min(1),
    clientSecret: z.string().min(1),
    redirectURI: redirectURIField,
    orgs: z.array(orgSchema).default([]),
    /** Legacy single org (Dex keeps it for old configs): members only, groups are its team names. */
    org: z.string().min(1).optional(),
    loadAllGroups: z.boolean().default(false),
    teamNameField: z.enum(['name', 'slug', 'both'], { error: 'must be name, slug or both' }).default('name'),
    useLoginAsID: z.boolean().default(false),
    preferredEmailDomain: z
      .string()
      .min(1)
      .refine((domain) => !domain.endsWith('*'), 'a glob pattern cannot end with "*"')
      .optional(),
    /** GitHub Enterprise: the host (and port); the API is https://<hostName>/api/v3. */
    hostName: z
      .string()
      .min(1)
      .refine((host) => !/[/?#@\s]/.test(host), 'must be a host name (with an optional port), not a URL or a path')
      .optional(),
    /** GitHub Enterprise: a PEM file (or PEM text) trusted for TLS instead of the system store. */
    rootCA: z.string().min(1).optional(),
    upstreamTimeout: upstreamTimeoutField,
  })
  .superRefine((config, ctx) => {
    if (config.org && config.orgs.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['org'], message: "cannot be used together with orgs (move it into orgs: [{name: ...}])" });
    }
    if (config.rootCA && !config.hostName) {
      ctx.addIssue({ code: 'custom', path: ['rootCA'], message: 'needs hostName (a root CA is for GitHub Enterprise)' });
    }
  });

export type GitHubConfig = z.infer<typeof githubConfigSchema>;
