/**
 * The generic `oauth` connector's config block, with Dex's option names (connector/oauth/oauth.go
 * `Config`) so a Dex config moves over unchanged. Validated once, strictly, when the config is loaded.
 */
import { z } from 'zod';
import { redirectURIField, upstreamTimeoutField, upstreamURL } from '../upstream-config.js';

export const oauthConfigSchema = z.strictObject({
  clientID: z.string().min(1),
  clientSecret: z.string().default(''),
  redirectURI: redirectURIField,
  authorizationURL: upstreamURL,
  tokenURL: upstreamURL,
  /** Answers the person's claims for their access token (a JSON object). */
  userInfoURL: upstreamURL,
  scopes: z.array(z.string().min(1)).default([]),
  /** PEM text, base64 of it, or PEM files, trusted for TLS instead of the system store. */
  rootCAs: z.array(z.string().min(1)).default([]),
  /** Accepts any TLS certificate from the upstream (Dex honours it; idgate too, with a warning at start). */
  insecureSkipVerify: z.boolean().default(false),
  /** The userinfo field that is the user ID (a string or a number). */
  userIDKey: z.string().min(1).default('id'),
  claimMapping: z
    .strictObject({
      userNameKey: z.string().min(1).default('user_name'),
      preferredUsernameKey: z.string().min(1).default('preferred_username'),
      groupsKey: z.string().min(1).default('groups'),
      emailKey: z.string().min(1).default('email'),
      emailVerifiedKey: z.string().min(1).default('email_verified'),
    })
    .prefault({}),
  upstreamTimeout: upstreamTimeoutField,
});

export type OAuthConfig = z.infer<typeof oauthConfigSchema>;
