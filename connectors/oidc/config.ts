/**
 * The `oidc` connector's config block, with Dex's option names (connector/oidc/oidc.go `Config`) so a
 * Dex config moves over unchanged. Validated once, strictly, when the config is loaded.
 */
import { z } from 'zod';
import { duration } from '../../src/config/duration.js';
import { modifyGroupNamesSchema, regexSchema } from '../groups.js';

const httpURL = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const newGroupFromClaimsSchema = z.strictObject({
  claims: z.array(z.string().min(1)).min(1),
  delimiter: z.string().default(''),
  clearDelimiter: z.boolean().default(false),
  prefix: z.string().default(''),
});

export const oidcConfigSchema = z
  .strictObject({
    issuer: httpURL,
    clientID: z.string().min(1),
    clientSecret: z.string().default(''),
    /** idgate's callback for this connector (the default) or Dex's shared <issuer>/callback; checked on open. */
    redirectURI: httpURL.optional(),
    scopes: z.array(z.string().min(1)).optional(),
    basicAuthUnsupported: z.boolean().optional(),
    insecureSkipEmailVerified: z.boolean().default(false),
    insecureEnableGroups: z.boolean().default(false),
    getUserInfo: z.boolean().default(false),
    userIDKey: z.string().min(1).default('sub'),
    userNameKey: z.string().min(1).default('name'),
    overrideClaimMapping: z.boolean().default(false),
    claimMapping: z
      .strictObject({
        preferred_username: z.string().min(1).optional(),
        email: z.string().min(1).optional(),
        groups: z.string().min(1).optional(),
      })
      .default({}),
    claimModifications: z
      .strictObject({
        newGroupFromClaims: z.array(newGroupFromClaimsSchema).default([]),
        filterGroupClaims: z.strictObject({ groupsFilter: regexSchema }).optional(),
        modifyGroupNames: modifyGroupNamesSchema.optional(),
      })
      .default({ newGroupFromClaims: [] }),
    allowedGroups: z.array(z.string().min(1)).default([]),
    /** `prompt` sent upstream when offline_access is requested; Dex's default is "consent". */
    promptType: z.string().default('consent'),
    acrValues: z.array(z.string().min(1)).default([]),
    pkceChallenge: z.enum(['S256', 'plain']).default('S256'),
    providerDiscoveryOverrides: z
      .strictObject({
        tokenURL: httpURL.optional(),
        authURL: httpURL.optional(),
        jwksURL: httpURL.optional(),
        userInfoURL: httpURL.optional(),
        deviceAuthURL: httpURL.optional(),
        endSessionURL: httpURL.optional(),
      })
      .default({}),
    /** PEM files, inline PEM or base64 of PEM, trusted for TLS to the upstream instead of the system store. */
    rootCAs: z.array(z.string().min(1)).default([]),
    // Dex options idgate refuses with a reason rather than as unknown keys.
    insecureSkipVerify: z.literal(false, { error: 'is not supported: put the upstream\'s CA in rootCAs instead' }).optional(),
    hostedDomains: z.never({ error: 'was removed (as in Dex); restrict with allowedGroups or at the upstream' }).optional(),
    issuerAlias: z.never({ error: 'is not supported: the upstream\'s discovery issuer must equal `issuer`' }).optional(),
    /** Idgate addition: bound on every upstream HTTP request (discovery, token, userinfo, JWKS). */
    upstreamTimeout: duration('10s'),
  })
  .superRefine((config, ctx) => {
    const issuer = new URL(config.issuer);
    if (issuer.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname)) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must be an https URL (plain http only for 127.0.0.1 or localhost)' });
    }
    if (config.allowedGroups.length > 0 && !config.insecureEnableGroups) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowedGroups'],
        message: 'needs insecureEnableGroups: true (groups are only read from the upstream when it is set)',
      });
    }
    const needsGroups = config.claimModifications.newGroupFromClaims.length > 0 || config.claimModifications.filterGroupClaims;
    if (needsGroups && !config.insecureEnableGroups) {
      ctx.addIssue({
        code: 'custom',
        path: ['claimModifications'],
        message: 'group modifications need insecureEnableGroups: true',
      });
    }
    if (config.upstreamTimeout <= 0 || config.upstreamTimeout > 120_000) {
      ctx.addIssue({ code: 'custom', path: ['upstreamTimeout'], message: 'must be between 1ms and 2m' });
    }
  });

export type OIDCConfig = z.infer<typeof oidcConfigSchema>;
