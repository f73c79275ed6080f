/** The `signer` section: who signs tokens (only `local`), with which algorithm, and how often its keys rotate. */
import { z } from 'zod';

export const signerSchema = z.strictObject({
  type: z.literal('local').default('local'),
  config: z
    .strictObject({
      algorithm: z.enum(['RS256', 'ES256', 'EdDSA']).default('RS256'),
      keysRotationPeriod: z.string().optional(),
    })
    .prefault({}),
});
