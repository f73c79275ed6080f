/**
 * The `gitlab` connector's config block, with Dex's option names (connector/gitlab/gitlab.go `Config`,
 * as released in v2.45) so a Dex config moves over unchanged. Validated once, strictly, when loaded.
 */
import { z } from 'zod';
import { redirectURIField, upstreamTimeoutField, upstreamURL } from '../upstream-config.js';

/** PEM text, or base64 of it; the PEM text. */
function pemText(value: string): string | undefined {
  if (value.includes('-----BEGIN')) return value;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : undefined;
}

export const gitlabConfigSchema = z.strictObject({
  /** The GitLab instance; trailing slashes are dropped. */
  baseURL: upstreamURL.default('https://gitlab.com').transform((url) => url.replace(/\/+$/, '')),
  clientID: z.string().min(1),
  clientSecret: z.string().min(1),
  redirectURI: redirectURIField,
  /** Only members of one of these groups (full paths) may sign in; their groups are narrowed to these. */
  groups: z.array(z.string().min(1)).default([]),
  useLoginAsID: z.boolean().default(false),
  /** Adds `group:owner`, `group:maintainer` or `group:developer` for the person's role in each group. */
  getGroupsPermission: z.boolean().default(false),
  /** PEM (or base64 of PEM, as Dex's []byte field is written) trusted for TLS instead of the system store. */
  rootCAData: z
    .string()
    .refine((value) => pemText(value) !== undefined, 'holds no PEM certificate (give PEM text or its base64)')
    .transform((value) => pemText(value)!)
    .optional(),
  inheritedGroups: z
    .never({ error: 'is not supported (an option of unreleased Dex): groups come from the direct memberships in /oauth/userinfo' })
    .optional(),
  upstreamTimeout: upstreamTimeoutField,
});

export type GitLabConfig = z.infer<typeof gitlabConfigSchema>;
