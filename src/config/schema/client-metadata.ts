/**
 * RFC 7591 client metadata as the config writes it: the keys a static client (and so its Client
 * record) may carry beyond Dex's own, and the token endpoint auth methods they may name.
 */
import { z } from 'zod';
import { CLIENT_MFA_KEYS } from '../../sessions/mfa/config.js';
import { GRANT_TYPES } from './oauth2.js';
import { absoluteURL, httpsURL } from './url.js';

/** Token endpoint client authentication methods (RFC 7591 token_endpoint_auth_method). */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none',
] as const;

/** RFC 7591 client metadata idgate honours, camelCased with Dex's spelling of URI/URL/ID. */
export const clientMetadataShape = {
  grantTypes: z.array(z.enum(GRANT_TYPES)).min(1, { message: 'must list at least one grant type' }).optional(),
  tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).optional(),
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1, { message: 'must hold at least one key' }) }).optional(),
  jwksURI: httpsURL.optional(),
  scopes: z.array(z.string().min(1)).optional(),
  resources: z.array(absoluteURL).optional(),
  requirePushedAuthorizationRequests: z.boolean().optional(),
  /** Dex's mfaChain and OpenID registration's default_acr_values (sessions/mfa/config.ts). */
  ...CLIENT_MFA_KEYS,
  /** RFC 8705 §2.1.2 tls_client_auth_*: the one name the client's certificate must carry (config/client-auth.ts). */
  tlsClientAuthSubjectDN: z.string().min(1).optional(),
  tlsClientAuthSANDNS: z.string().min(1).optional(),
  tlsClientAuthSANURI: z.string().min(1).optional(),
  tlsClientAuthSANIP: z.string().min(1).optional(),
  tlsClientAuthSANEmail: z.string().min(1).optional(),
  /** RFC 8705 §3.4: the client's access tokens are bound to its certificate (cnf x5t#S256). */
  tlsClientCertificateBoundAccessTokens: z.boolean().optional(),
  /** RFC 9449 §5.2: the client's access tokens must be DPoP-bound; a token request without a proof is refused. */
  dpopBoundAccessTokens: z.boolean().optional(),
  /** Dex's oauth2.skipApprovalScreen, for this client alone (absent: the global value). */
  skipApprovalScreen: z.boolean().optional(),
  /** Our own: a person must be in one of these groups to sign in to this client (beside allowedConnectors). */
  allowedGroups: z.array(z.string().min(1)).optional(),
  /** OpenID RP-Initiated Logout post_logout_redirect_uris, matched exactly. */
  postLogoutRedirectURIs: z.array(absoluteURL.refine((value) => !URL.canParse(value) || !new URL(value).hash, { message: 'must not have a fragment' })).optional(),
  /** OpenID Back-Channel Logout backchannel_logout_uri (http or https, no fragment) and backchannel_logout_session_required. */
  backchannelLogoutURI: absoluteURL
    .refine((value) => !URL.canParse(value) || ['http:', 'https:'].includes(new URL(value).protocol), { message: 'must be an http or https URL' })
    .refine((value) => !URL.canParse(value) || !new URL(value).hash, { message: 'must not have a fragment' })
    .optional(),
  backchannelLogoutSessionRequired: z.boolean().optional(),
};

/** The keys of clientMetadataShape: what a static client passes on to its Client record. */
export const CLIENT_METADATA_KEYS = Object.keys(clientMetadataShape) as Array<keyof typeof clientMetadataShape>;
