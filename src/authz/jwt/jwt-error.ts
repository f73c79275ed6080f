/**
 * JWT authentication failures, with a stable code and the message Envoy's jwt_authn (jwt_verify_lib)
 * gives for the same failure, which is what Istio users see in the 401/403 body. The code goes on the
 * audit line (`jwtError`).
 */

export type JwtErrorCode =
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWT_TOO_LARGE'
  | 'ERR_JWT_CRIT'
  | 'ERR_JWT_TYPE'
  | 'ERR_JWT_ALG_NOT_ALLOWED'
  | 'ERR_JWT_ISSUER_NOT_CONFIGURED'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_SIGNATURE'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_JWT_AUDIENCE';

const MESSAGES: Record<JwtErrorCode, string> = {
  ERR_JWT_MALFORMED: 'Jwt is not in the form of Header.Payload.Signature',
  // idgate's own rules (see parse-token.ts), so idgate's own wording.
  ERR_JWT_TOO_LARGE: 'Jwt is larger than 60 KiB',
  ERR_JWT_CRIT: 'Jwt header has a crit parameter: no JWS extension is supported',
  ERR_JWT_TYPE: 'Jwt header typ names a token that is not an access token',
  ERR_JWT_ALG_NOT_ALLOWED: 'Jwt header has an algorithm that is not allowed',
  ERR_JWT_ISSUER_NOT_CONFIGURED: 'Jwt issuer is not configured',
  ERR_JWT_EXPIRED: 'Jwt is expired',
  ERR_JWT_NOT_YET_VALID: 'Jwt not yet valid',
  ERR_JWT_SIGNATURE: 'Jwt verification fails',
  ERR_JWKS_NO_MATCHING_KEY: "Jwks doesn't have key to match kid or alg from Jwt",
  ERR_JWKS_UNAVAILABLE: 'Jwks remote fetch is failed',
  ERR_JWT_AUDIENCE: 'Audiences in Jwt are not allowed',
};

export class JwtError extends Error {
  /** 403 for a wrong audience (as Envoy does), 401 for everything else. */
  readonly status: 401 | 403;
  constructor(readonly code: JwtErrorCode) {
    super(MESSAGES[code]);
    this.name = 'JwtError';
    this.status = code === 'ERR_JWT_AUDIENCE' ? 403 : 401;
  }
}
