/**
 * The `frontend` section (top level or under web, as Dex reads it): how the built-in login pages look.
 * Dex's template keys are refused with the reason, since idgate does not render Go templates.
 */
import { z } from 'zod';

/** Refuses a Dex frontend key whose Go templates idgate cannot render (the pages are built in). */
const dexTemplatesOnly = (key: string) =>
  z
    .unknown()
    .refine((value) => value === undefined, {
      message: `is not supported: idgate's login pages are built in and cannot use Dex's Go templates (${key}); theme them with theme, logoURL and extraCSS (docs/login.md#theming)`,
    })
    .optional();

export const frontendSchema = z.strictObject({
  dir: dexTemplatesOnly('frontend.dir'),
  logoURL: z.string().optional(),
  issuer: z.string().optional(),
  theme: z.enum(['light', 'dark', 'auto']).default('auto'),
  /** Extra CSS appended to the login pages' stylesheet. */
  extraCSS: z.string().optional(),
  extra: dexTemplatesOnly('frontend.extra, the template variables'),
});
