/**
 * The `oauth2` section: the grant and response types idgate implements and which of them are on, and
 * the rules every client's requests follow (PKCE, PAR, DPoP, the device flow's polling interval).
 */
import { z } from 'zod';
import { duration, optionalDuration } from '../duration.js';

/**
 * The grant types idgate implements, by their RFC names (Dex's oauth2.grantTypes values). A client or
 * the operator may list only these; discovery advertises the enabled ones.
 */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:device_code',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'password',
] as const;

/**
 * Dex's oauth2.responseTypes values: the code flow, the implicit flow (`id_token`, `id_token token`) and
 * the hybrid flows. `token` enables the access token part of those; on its own (OAuth 2.0's implicit
 * grant) it is refused at /auth, as in Dex. A request may combine the parts of the listed values.
 */
export const RESPONSE_TYPES = ['code', 'token', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'] as const;

export const oauth2Schema = z.strictObject({
  skipApprovalScreen: z.boolean().default(false),
  alwaysShowLoginScreen: z.boolean().default(false),
  passwordConnector: z.string().optional(),
  responseTypes: z.array(z.enum(RESPONSE_TYPES)).min(1, { message: 'must list at least one response type' }).default(['code']),
  /** Dex's values; `implicit` must agree with responseTypes, which switches that flow (config/grants.ts). */
  grantTypes: z.array(z.enum([...GRANT_TYPES, 'implicit'])).optional(),
  /** Our own: the device flow's polling interval (RFC 8628 `interval`; Dex fixes 5s), in whole seconds. */
  devicePollingInterval: duration('5s', { positive: true }).refine((ms) => ms % 1000 === 0, { message: 'must be whole seconds (e.g. "5s")' }),
  /**
   * Our own: PKCE S256 is always required for public clients; `enforce` requires it for all. `plain`
   * is refused unless `allowPlain` (RFC 9700 §2.1.1: S256 is the method to use).
   */
  pkce: z.strictObject({ enforce: z.boolean().default(false), allowPlain: z.boolean().default(false) }).prefault({}),
  /** Our own (RFC 9126 §5 require_pushed_authorization_requests): every client must use PAR. */
  requirePushedAuthorizationRequests: z.boolean().default(false),
  /** Our own (RFC 9449): how DPoP proofs are accepted at /token and /userinfo. */
  dpop: z
    .strictObject({
      /** A proof's iat may be this far from our clock, before or after; its jti is remembered as long. */
      iatWindow: duration('60s', { positive: true }),
      /** RFC 9449 §8: every proof must carry a nonce of ours (DPoP-Nonce); one without is answered use_dpop_nonce. */
      requireNonce: z.boolean().default(false),
      /** How long one nonce is handed out (default 5m); a nonce is accepted until the next one has been out as long. */
      nonceLifetime: optionalDuration({ positive: true }),
    })
    .prefault({})
    .superRefine((dpop, ctx) => {
      if (dpop.nonceLifetime !== undefined && !dpop.requireNonce) {
        ctx.addIssue({ code: 'custom', path: ['nonceLifetime'], message: 'is used only with requireNonce: true (no nonce is handed out otherwise)' });
      }
    }),
});
