/**
 * The OpenID Provider metadata (OIDC Discovery 1.0, RFC 8414): only what idgate really does. The
 * signing algorithms are read from the published key set, so an algorithm change shows up here as soon
 * as its key is published.
 */
import { ACR_VALUES } from '../sessions/mfa/acr.js';
import { clientCertificatesArrive } from '../config/client-certificates.js';
import { CLIENT_ASSERTION_ALGORITHMS, supportedClientAuthMethods } from './client-auth/index.js';
import { parseResponseType, returnsTokens, supportedResponseTypes } from './authorize/check_response_type.js';
import { RESPONSE_MODES } from './authorize/response_mode.js';
import type { IssuerContext } from './context.js';
import { deviceFlowEnabled } from './device/authorization-endpoint.js';
import { DEVICE_PATHS } from './device/device-request.js';
import { DPOP_ALGORITHMS } from './dpop/proof.js';
import { introspectionAuthMethods, INTROSPECTION_PATH } from './introspection.js';
import { LOGOUT_PATH } from '../sessions/end-session.js';
import { PAR_PATH } from './par-endpoint.js';
import { REVOCATION_PATH } from './revoke-endpoint.js';
import { KNOWN_SCOPES } from './scopes.js';
import { enabledGrantTypes } from './token/grants/index.js';
import { codeChallengeMethods } from './token/pkce.js';

export const CLAIMS_SUPPORTED = [
  'iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'at_hash', 'sid', 'amr', 'acr',
  'email', 'email_verified', 'name', 'preferred_username', 'groups', 'federated_claims',
] as const;

/**
 * RFC 8705 §5: where the endpoints a client authenticates or presents a certificate-bound token at are
 * served on the mTLS host (web.mtlsURL); none without one.
 */
function mtlsEndpointAliases(ctx: IssuerContext): { mtls_endpoint_aliases?: Record<string, string> } {
  const base = ctx.config.web.mtlsURL?.replace(/\/+$/, '');
  if (!base) return {};
  return {
    mtls_endpoint_aliases: {
      token_endpoint: `${base}/token`,
      userinfo_endpoint: `${base}/userinfo`,
      revocation_endpoint: `${base}${REVOCATION_PATH}`,
      introspection_endpoint: `${base}${INTROSPECTION_PATH}`,
      pushed_authorization_request_endpoint: `${base}${PAR_PATH}`,
      ...(deviceFlowEnabled(ctx) ? { device_authorization_endpoint: `${base}${DEVICE_PATHS.authorization}` } : {}),
    },
  };
}

export async function discoveryDocument(ctx: IssuerContext): Promise<Record<string, unknown>> {
  const { keys } = await ctx.signer.jwks();
  const algorithms = [...new Set(keys.map((key) => key.alg).filter((alg): alg is string => typeof alg === 'string'))];
  const responseTypes = supportedResponseTypes(ctx.config);
  const implicit = responseTypes.some((type) => returnsTokens(parseResponseType(type)!));
  const authMethods = supportedClientAuthMethods(ctx.config);
  return {
    issuer: ctx.issuer,
    authorization_endpoint: `${ctx.issuer}/auth`,
    token_endpoint: `${ctx.issuer}/token`,
    jwks_uri: `${ctx.issuer}/keys`,
    userinfo_endpoint: `${ctx.issuer}/userinfo`,
    ...(deviceFlowEnabled(ctx) ? { device_authorization_endpoint: `${ctx.issuer}${DEVICE_PATHS.authorization}` } : {}),
    revocation_endpoint: `${ctx.issuer}${REVOCATION_PATH}`,
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    introspection_endpoint: `${ctx.issuer}${INTROSPECTION_PATH}`,
    introspection_endpoint_auth_methods_supported: introspectionAuthMethods(ctx.config),
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
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    claims_supported: CLAIMS_SUPPORTED,
    // sessions/mfa/acr.ts; levels above the first factor need mfa.authenticators (check_acr_values).
    acr_values_supported: ACR_VALUES,
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    // request_uri is taken only as PAR's reference (RFC 9126); request objects by reference are not fetched.
    request_uri_parameter_supported: false,
    pushed_authorization_request_endpoint: `${ctx.issuer}${PAR_PATH}`,
    require_pushed_authorization_requests: ctx.config.oauth2.requirePushedAuthorizationRequests,
    claims_parameter_supported: false,
    // OpenID RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 (login/logout.ts, sessions/backchannel.ts).
    end_session_endpoint: `${ctx.issuer}${LOGOUT_PATH}`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // RFC 9449 §5.1, RFC 8705 §3.3 and §5.
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    tls_client_certificate_bound_access_tokens: clientCertificatesArrive(ctx.config.web),
    ...mtlsEndpointAliases(ctx),
  };
}
