/**
 * The OpenID Provider metadata (OIDC Discovery 1.0, RFC 8414): only what idgate really does. The
 * signing algorithms are read from the published key set, so an algorithm change shows up here as soon
 * as its key is published.
 */
import { CLIENT_ASSERTION_ALGORITHMS, CLIENT_AUTH_METHODS } from './client-auth/index.js';
import { parseResponseType, returnsTokens, supportedResponseTypes } from './authorize/check_response_type.js';
import { RESPONSE_MODES } from './authorize/response_mode.js';
import type { IssuerContext } from './context.js';
import { deviceFlowEnabled } from './device/authorization-endpoint.js';
import { DEVICE_PATHS } from './device/device-request.js';
import { INTROSPECTION_AUTH_METHODS, INTROSPECTION_PATH } from './introspection.js';
import { PAR_PATH } from './par-endpoint.js';
import { REVOCATION_PATH } from './revoke-endpoint.js';
import { KNOWN_SCOPES } from './scopes.js';
import { enabledGrantTypes } from './token/grants/index.js';
import { codeChallengeMethods } from './token/pkce.js';

export const CLAIMS_SUPPORTED = [
  'iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'sid',
  'email', 'email_verified', 'name', 'preferred_username', 'groups', 'federated_claims',
] as const;

export async function discoveryDocument(ctx: IssuerContext): Promise<Record<string, unknown>> {
  const { keys } = await ctx.signer.jwks();
  const algorithms = [...new Set(keys.map((key) => key.alg).filter((alg): alg is string => typeof alg === 'string'))];
  const responseTypes = supportedResponseTypes(ctx.config);
  const implicit = responseTypes.some((type) => returnsTokens(parseResponseType(type)!));
  return {
    issuer: ctx.issuer,
    authorization_endpoint: `${ctx.issuer}/auth`,
    token_endpoint: `${ctx.issuer}/token`,
    jwks_uri: `${ctx.issuer}/keys`,
    userinfo_endpoint: `${ctx.issuer}/userinfo`,
    ...(deviceFlowEnabled(ctx) ? { device_authorization_endpoint: `${ctx.issuer}${DEVICE_PATHS.authorization}` } : {}),
    revocation_endpoint: `${ctx.issuer}${REVOCATION_PATH}`,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    introspection_endpoint: `${ctx.issuer}${INTROSPECTION_PATH}`,
    introspection_endpoint_auth_methods_supported: INTROSPECTION_AUTH_METHODS,
    introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    // RFC 9701: signed answers use the signing key, so its algorithms.
    introspection_signing_alg_values_supported: algorithms,
    response_types_supported: responseTypes,
    response_modes_supported: RESPONSE_MODES,
    // Dex's rule: "implicit" when a response type returns tokens from /auth.
    grant_types_supported: [...enabledGrantTypes(ctx), ...(implicit ? ['implicit'] : [])],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algorithms,
    code_challenge_methods_supported: codeChallengeMethods(ctx.config.oauth2.pkce),
    scopes_supported: KNOWN_SCOPES,
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    claims_supported: CLAIMS_SUPPORTED,
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    // request_uri is taken only as PAR's reference (RFC 9126); request objects by reference are not fetched.
    request_uri_parameter_supported: false,
    pushed_authorization_request_endpoint: `${ctx.issuer}${PAR_PATH}`,
    require_pushed_authorization_requests: ctx.config.oauth2.requirePushedAuthorizationRequests,
    claims_parameter_supported: false,
  };
}
