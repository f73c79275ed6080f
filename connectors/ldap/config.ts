/**
 * The `ldap` connector's config block, with Dex's option names (connector/ldap/ldap.go `Config`) so a
 * Dex config moves over unchanged, plus the shared group options. Validated once, strictly.
 */
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';
import { modifyGroupNamesSchema } from '../groups.js';

const scope = z.enum(['sub', 'one']).default('sub');
/** An operator-written filter is used as given, so it must at least be one parenthesised filter. */
const filter = z.string().regex(/^\(.*\)$/s, 'must be an LDAP filter in parentheses, e.g. "(objectClass=person)"').optional();

export const ldapConfigSchema = z
  .strictObject({
    host: z.string().min(1),
    insecureNoSSL: z.boolean().default(false),
    insecureSkipVerify: z.boolean().default(false),
    startTLS: z.boolean().default(false),
    rootCA: z.string().min(1).optional(),
    rootCAData: z.string().min(1).optional(),
    clientCert: z.string().min(1).optional(),
    clientKey: z.string().min(1).optional(),
    bindDN: z.string().default(''),
    bindPW: z.string().default(''),
    usernamePrompt: z.string().default('Username'),
    userSearch: z.strictObject({
      baseDN: z.string().min(1),
      filter,
      username: z.string().min(1),
      scope,
      idAttr: z.string().min(1).default('uid'),
      emailAttr: z.string().min(1).default('mail'),
      nameAttr: z.string().min(1).default('cn'),
      preferredUsernameAttr: z.string().min(1).optional(),
      emailSuffix: z.string().min(1).optional(),
    }),
    groupSearch: z
      .strictObject({
        baseDN: z.string().min(1),
        filter,
        scope,
        userMatchers: z.array(z.strictObject({ userAttr: z.string().min(1), groupAttr: z.string().min(1) })).min(1),
        nameAttr: z.string().min(1).default('cn'),
      })
      .optional(),
    /** Idgate additions: the shared group policy and a bound on every LDAP operation. */
    allowedGroups: z.array(z.string().min(1)).default([]),
    filterGroups: z.boolean().default(false),
    modifyGroupNames: modifyGroupNamesSchema.optional(),
    timeout: duration('10s'),
  })
  .superRefine((config, ctx) => {
    if (config.insecureNoSSL && config.startTLS) {
      ctx.addIssue({ code: 'custom', path: ['startTLS'], message: 'cannot be combined with insecureNoSSL' });
    }
    if (config.rootCA && config.rootCAData) {
      ctx.addIssue({ code: 'custom', path: ['rootCAData'], message: 'set either rootCA or rootCAData, not both' });
    }
    if (Boolean(config.clientCert) !== Boolean(config.clientKey)) {
      ctx.addIssue({ code: 'custom', path: ['clientCert'], message: 'clientCert and clientKey go together' });
    }
    if (config.allowedGroups.length > 0 && !config.groupSearch) {
      ctx.addIssue({ code: 'custom', path: ['allowedGroups'], message: 'needs groupSearch (groups are read from the directory)' });
    }
    if (config.bindPW && !config.bindDN) {
      ctx.addIssue({ code: 'custom', path: ['bindPW'], message: 'is set but bindDN is empty' });
    }
  });

export type LDAPConfig = z.infer<typeof ldapConfigSchema>;
