/**
 * The OpenID Provider metadata (OIDC Discovery 1.0, RFC 8414): only what idgate really does. The
 * signing algorithms are read from the published key set, so an algorithm change shows up here as soon
 * as its key is published.
 */
import { CLIENT_AUTH_METHODS } from './client-auth.js';
import type { IssuerContext } from './context.js';
import { REVOCATION_PATH } from './revoke-endpoint.js';
import { KNOWN_SCOPES } from './scopes.js';
import { enabledGrantTypes } from './token/grants/index.js';
import { CODE_CHALLENGE_METHODS } from './token/pkce.js';

export const CLAIMS_SUPPORTED = [
  'iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'sid',
  'email', 'email_verified', 'name', 'preferred_username', 'groups', 'federated_claims',
] as const;

export async function discoveryDocument(ctx: IssuerContext): Promise<Record<string, unknown>> {
  const { keys } = await ctx.signer.jwks();
  const algorithms = [...new Set(keys.map((key) => key.alg).filter((alg): alg is string => typeof alg === 'string'))];
  return {
    issuer: ctx.issuer,
    authorization_endpoint: `${ctx.issuer}/auth`,
    token_endpoint: `${ctx.issuer}/token`,
    jwks_uri: `${ctx.issuer}/keys`,
    userinfo_endpoint: `${ctx.issuer}/userinfo`,
    revocation_endpoint: `${ctx.issuer}${REVOCATION_PATH}`,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    response_types_supported: ctx.config.oauth2.responseTypes,
    response_modes_supported: ['query'],
    grant_types_supported: enabledGrantTypes(ctx),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algorithms,
    code_challenge_methods_supported: CODE_CHALLENGE_METHODS,
    scopes_supported: KNOWN_SCOPES,
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    claims_supported: CLAIMS_SUPPORTED,
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
}
