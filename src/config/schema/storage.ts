/**
 * The `storage` section: which backend keeps idgate's records (memory, sqlite3, postgres, with Dex's
 * keys), how often expired ones are deleted, and the keys that seal secrets at rest.
 */
import { z } from 'zod';
import { optionalDuration } from '../duration.js';

/** Our own: how often expired records are deleted (default 5m, Dex's fixed interval); the first run is shortly after start. */
const gcInterval = optionalDuration({ positive: true });

/**
 * Our own: the keys that seal secrets at rest (src/storage/sealing.ts). The first key seals; every key
 * listed unseals, so a key is rotated by putting a new one first and, once `idgate keys
 * rotate-storage-key` has re-sealed everything, removing the old one.
 */
const sealing = z
  .strictObject({
    keys: z
      .array(
        z
          .strictObject({
            id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, ".", "_" or "-"' }),
            keyFile: z.string().min(1).optional(),
            keyEnv: z.string().min(1).optional(),
          })
          .refine((key) => (key.keyFile === undefined) !== (key.keyEnv === undefined), { message: 'set exactly one of keyFile and keyEnv' }),
      )
      .min(1, { message: 'must list at least one key' })
      .refine((keys) => new Set(keys.map((key) => key.id)).size === keys.length, { message: 'key ids must be unique' }),
  })
  .optional();

export const storageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('memory'), config: z.strictObject({}).optional(), gcInterval, sealing }),
  z.strictObject({
    type: z.literal('sqlite3'),
    gcInterval,
    sealing,
    config: z.strictObject({ file: z.string().min(1, { message: 'must name a file' }) }),
  }),
  z.strictObject({
    type: z.literal('postgres'),
    gcInterval,
    sealing,
    config: z.strictObject({
      /** A libpq connection string; the separate keys below override its parts. */
      connectionString: z.string().optional(),
      host: z.string().optional(),
      port: z.number().int().min(1).max(65535).optional(),
      database: z.string().optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      ssl: z
        .strictObject({
          mode: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).default('disable'),
          caFile: z.string().optional(),
          certFile: z.string().optional(),
          keyFile: z.string().optional(),
          serverName: z.string().optional(),
        })
        .optional(),
      /** Seconds, as in Dex. */
      connectionTimeout: z.number().int().positive().optional(),
      maxOpenConns: z.number().int().positive().optional(),
      maxIdleConns: z.number().int().nonnegative().optional(),
      /** Seconds, as in Dex. */
      connMaxLifetime: z.number().int().positive().optional(),
      /** Our own: the schema to keep idgate's tables in. */
      schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: 'not a schema name (lowercase letters, digits, _)' }).max(63, { message: 'at most 63 characters (PostgreSQL truncates longer names)' }).optional(),
    }),
  }),
]);
