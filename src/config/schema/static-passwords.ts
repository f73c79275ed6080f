/** One entry of `staticPasswords`: a password DB user from the config file, its password as a bcrypt hash. */
import { z } from 'zod';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * A bcrypt hash as Dex takes it (server/config.go): the hash itself, or, for backwards compatibility,
 * its standard base64 encoding. Returns the bcrypt form, or undefined if the value is neither.
 */
export function bcryptHashOf(value: string): string | undefined {
  if (BCRYPT.test(value)) return value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  return BCRYPT.test(decoded) ? decoded : undefined;
}

const bcryptHash = z.string().refine((value) => bcryptHashOf(value) !== undefined, { message: 'not a bcrypt hash (nor the base64 of one)' });

export const staticPasswordSchema = z
  .strictObject({
    email: z.email({ message: 'not an email address' }),
    hash: bcryptHash.optional(),
    hashFromEnv: z.string().optional(),
    username: z.string().min(1),
    userID: z.string().min(1),
    groups: z.array(z.string()).optional(),
    preferredUsername: z.string().optional(),
    emailVerified: z.boolean().optional(),
  })
  .superRefine((entry, ctx) => {
    if (!entry.hash && !entry.hashFromEnv) ctx.addIssue({ code: 'custom', path: ['hash'], message: 'hash or hashFromEnv is required' });
  });
