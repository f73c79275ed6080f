/**
 * Protocol errors: each carries the RFC error code and the HTTP status, so a caller branches on
 * `code` and the response writer needs nothing else. Messages are safe to show (no secrets).
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  /** RFC 8628 §3.5: the device grant's answers while polling. */
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  /** RFC 9449 §5, §7.1: a DPoP proof that is missing where required, malformed or not for this request. */
  | 'invalid_dpop_proof'
  /** RFC 9449 §8: the proof must carry the server's nonce, sent in the DPoP-Nonce header. */
  | 'use_dpop_nonce'
  /** OpenID Connect Unmet Authentication Requirements 1.0: the acr asked for cannot be reached. */
  | 'unmet_authentication_requirements';

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  unsupported_token_type: 400,
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  unmet_authentication_requirements: 400,
};

export class OAuthError extends Error {
  readonly status: number;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: { status?: number; cause?: unknown; wwwAuthenticate?: string; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(description, { cause: options.cause });
    this.name = 'OAuthError';
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.wwwAuthenticate = options.wwwAuthenticate;
    this.headers = options.headers;
  }
  readonly wwwAuthenticate: string | undefined;
  /** Other response headers the error needs (RFC 9449's DPoP-Nonce). */
  readonly headers: Readonly<Record<string, string>> | undefined;

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}
