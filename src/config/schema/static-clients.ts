/**
 * One entry of `staticClients`: a client registered in the config file (Dex's keys, the client
 * metadata, our claims), checked for what makes it usable: an id, and a secret or a way to do without.
 */
import { z } from 'zod';
import { CLIENT_CLAIM_KEYS } from '../../claims/config.js';
import { clientAuthIssues } from '../client-auth.js';
import { clientMetadataShape } from './client-metadata.js';
import { unsupportedSessionKey } from './sessions.js';
import { absoluteURL } from './url.js';

/** Methods with which a confidential client proves itself without a shared secret. */
const SECRETLESS_AUTH_METHODS: readonly string[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

export const staticClientSchema = z
  .strictObject({
    ...clientMetadataShape,
    id: z.string().min(1).optional(),
    idEnv: z.string().optional(),
    secret: z.string().optional(),
    secretEnv: z.string().optional(),
    redirectURIs: z.array(absoluteURL).default([]),
    trustedPeers: z.array(z.string()).default([]),
    public: z.boolean().default(false),
    name: z.string().optional(),
    logoURL: z.string().optional(),
    allowedConnectors: z.array(z.string()).optional(),
    /** Our own: require PKCE for this confidential client. */
    requirePKCE: z.boolean().optional(),
    /** Dex master's per-client session keys, not implemented (docs/login.md#the-login-session). */
    ssoSharedWith: unsupportedSessionKey('is not supported: a login session is shared with every client of the issuer; a client that wants a fresh login sends prompt=login or max_age'),
    refreshTokenLifetime: unsupportedSessionKey('is not supported: the refresh tokens of a login session are revoked when it is ended (logout, idgate sessions end), and outlive it when it expires'),
    /** Our own: CEL claims in this client's tokens and rules for them, docs/claims.md. */
    ...CLIENT_CLAIM_KEYS,
  })
  .superRefine((client, ctx) => {
    if (!client.id && !client.idEnv) ctx.addIssue({ code: 'custom', path: ['id'], message: 'id or idEnv is required' });
    if (!client.public && !client.secret && !client.secretEnv && !SECRETLESS_AUTH_METHODS.includes(client.tokenEndpointAuthMethod ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a confidential client needs secret or secretEnv (or set public: true, or a tokenEndpointAuthMethod without a secret: private_key_jwt, tls_client_auth, self_signed_tls_client_auth)' });
    }
    if (client.public && (client.secret || client.secretEnv)) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'a public client must not have a secret' });
    }
    // These grants rest on who the client is, which a public client cannot prove (grants/client_credentials.ts).
    for (const grant of ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] as const) {
      const at = client.public ? (client.grantTypes?.indexOf(grant) ?? -1) : -1;
      if (at >= 0) ctx.addIssue({ code: 'custom', path: ['grantTypes', at], message: `${grant} needs a confidential client (this one is public)` });
    }
    for (const issue of clientAuthIssues(client)) ctx.addIssue({ code: 'custom', ...issue });
  });
