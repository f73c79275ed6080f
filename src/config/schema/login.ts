/** Our own `login` section: the limits that keep the login pages from being flooded or guessed at. */
import { z } from 'zod';
import { duration } from '../duration.js';

export const loginSchema = z.strictObject({
  /**
   * Authorization requests stored per client IP in `window` (each waits in storage for its login until
   * expiry.authRequests): beyond `maxPerClientIP` the IP is refused with a 429 page for `window`.
   */
  authRequests: z
    .strictObject({
      maxPerClientIP: z.number().int().positive().default(300),
      window: duration('10m', { positive: true }),
    })
    .prefault({}),
  /** Failed password attempts allowed per user (and per client IP) in `window` before a wait is imposed. */
  throttle: z
    .strictObject({
      maxFailures: z.number().int().positive().default(5),
      window: duration('15m', { positive: true }),
      lockout: duration('5m', { positive: true }),
    })
    .prefault({}),
});
