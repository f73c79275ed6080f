/** The `expiry` section: how long each kind of token, code and request lives (Go durations, as in Dex). */
import { z } from 'zod';
import { duration } from '../duration.js';

const refreshTokensSchema = z.strictObject({
  disableRotation: z.boolean().default(false),
  reuseInterval: duration('3s'),
  validIfNotUsedFor: duration('2160h', { positive: true }),
  absoluteLifetime: duration('3960h', { positive: true }),
});

export const expirySchema = z.strictObject({
  idTokens: duration('24h', { positive: true }),
  /** Our own: the JWT access token's lifetime (Dex uses idTokens for both). */
  accessTokens: duration('1h', { positive: true }),
  /** Deprecated in Dex in favour of signer.config.keysRotationPeriod; still honoured. */
  signingKeys: z.string().optional(),
  authRequests: duration('24h', { positive: true }),
  /** Our own: authorization code lifetime (Dex hard-codes 30m; 1m is the RFC 6749 recommendation). */
  authCodes: duration('1m', { positive: true }),
  deviceRequests: duration('5m', { positive: true }),
  /** Our own: how long a pushed authorization request's request_uri may be used (RFC 9126 §2.2: short). */
  pushedAuthRequests: duration('1m', { positive: true }),
  refreshTokens: refreshTokensSchema.prefault({}),
});
