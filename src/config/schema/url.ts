/** The URL values the config schema checks: any absolute URL, and one a client's keys may be fetched from. */
import { z } from 'zod';

export const absoluteURL = z.string().refine((value) => URL.canParse(value), { message: 'not an absolute URL' });

export const httpsURL = absoluteURL.refine((value) => !URL.canParse(value) || new URL(value).protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(new URL(value).hostname), {
  message: 'must be an https URL (http only for localhost)',
});
