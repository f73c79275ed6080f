/**
 * `filter.signIn`: browser sign-in at the ingress (what oauth2-proxy does). The filter is a
 * confidential OIDC client of the issuer; which workloads sign in is chosen with the namespace +
 * labels targeting that policies use. Keys follow Dex's OIDC connector (`issuer`, `clientID`,
 * `clientSecret`, `scopes`); secrets may come from the environment (`...Env`, as Dex's `secretEnv`).
 */
import { z } from 'zod';
import { duration } from '../../config/duration.js';

/** A cookie name: an RFC 6265 token, short enough to leave room for the value. */
const cookieName = z.string().regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,64}$/, { message: 'not a cookie name (letters, digits and !#$%&\'*+-.^_`|~, at most 64)' });

/** Enough entropy for an AES-256 key derived with HKDF: 32 characters at least. */
const cookieSecret = z.string().min(32, { message: 'must be at least 32 characters (e.g. `openssl rand -base64 32`)' });

/** Workloads as policies target them: a namespace (the root namespace: every workload) and matchLabels. */
const workloadSelectorSchema = z.strictObject({
  namespace: z.string().min(1),
  labels: z.record(z.string(), z.string()).default({}),
});

export const signInConfigSchema = z
  .strictObject({
    /** The issuer the filter signs people in with (idgate's own `issuer`). */
    issuer: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), { message: 'must be an http(s) URL' }),
    /** The filter's client at that issuer: confidential, with every app's `<origin><pathPrefix>callback` as a redirect URI. */
    clientID: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    clientSecretEnv: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile', 'groups']),
    /** Where the callback, start and sign_out live on every signing-in host (oauth2-proxy's `/oauth2/`). */
    pathPrefix: z
      .string()
      .regex(/^\/([A-Za-z0-9._~!$&'()*+,;=:@-]+\/)*$/, { message: 'a path that starts and ends with "/" (e.g. /oauth2/)' })
      .refine((value) => value !== '/', { message: 'must not be "/" (the whole site would be sign-in endpoints)' })
      .default('/oauth2/'),
    /** Workloads whose browser requests sign in; empty: every workload. */
    workloads: z.array(workloadSelectorSchema).default([]),
    cookie: z
      .strictObject({
        name: cookieName.default('_idgate_session'),
        /** Set on the cookie (a parent domain: one sign-in for every host under it); absent: each host its own cookie. */
        domain: z.string().regex(/^\.?([a-z0-9-]+\.)*[a-z0-9-]+$/i, { message: 'a domain name (e.g. example.com)' }).optional(),
        /** How long a sign-in lasts (the cookie's Max-Age and the session's exp). */
        lifetime: duration('12h', { positive: true }),
        /** Seals the cookies (AES-256-GCM under a key derived with HKDF); the same on every filter replica. */
        secret: cookieSecret.optional(),
        secretEnv: z.string().min(1).optional(),
        /** Secure attribute; absent: set on https requests only. */
        secure: z.boolean().optional(),
        sameSite: z.enum(['Lax', 'Strict']).default('Lax'),
      })
      .prefault({}),
    /** On `<pathPrefix>sign_out`, also end the idgate session (RP-initiated logout) when the issuer advertises end_session_endpoint. */
    endSessionOnSignOut: z.boolean().default(true),
    /** How long the sign-in (from redirect to callback) may take. */
    signInTimeout: duration('10m', { positive: true }),
  })
  .superRefine((config, ctx) => {
    if (!config.clientSecret && !config.clientSecretEnv) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'the filter is a confidential client: set clientSecret or clientSecretEnv' });
    if (config.clientSecret && config.clientSecretEnv) ctx.addIssue({ code: 'custom', path: ['clientSecretEnv'], message: 'set clientSecret or clientSecretEnv, not both' });
    if (!config.cookie.secret && !config.cookie.secretEnv) ctx.addIssue({ code: 'custom', path: ['cookie', 'secret'], message: 'set cookie.secret or cookie.secretEnv (the same on every filter replica)' });
    if (config.cookie.secret && config.cookie.secretEnv) ctx.addIssue({ code: 'custom', path: ['cookie', 'secretEnv'], message: 'set cookie.secret or cookie.secretEnv, not both' });
    if (!config.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include "openid" (the session is made from the ID token)' });
  });

export type SignInConfig = z.output<typeof signInConfigSchema>;

/** The sign-in secrets once read (from the config or the environment), by config path for errors. */
export interface SignInSecrets {
  clientSecret: string;
  cookieSecret: string;
}

/**
 * Reads `clientSecretEnv` / `cookie.secretEnv` from `env`; each one missing, or a cookie secret too
 * short, is reported through `problem` with its path under `filter.signIn`.
 */
export function resolveSignInSecrets(
  config: SignInConfig,
  env: Readonly<Record<string, string | undefined>>,
  problem: (path: string, message: string) => void,
): SignInConfig {
  const read = (name: string | undefined, path: string): string | undefined => {
    if (name === undefined) return undefined;
    const value = env[name];
    if (value === undefined || value === '') problem(path, `environment variable ${name} is not set`);
    return value || undefined;
  };
  const clientSecret = config.clientSecret ?? read(config.clientSecretEnv, 'filter.signIn.clientSecretEnv');
  const secret = config.cookie.secret ?? read(config.cookie.secretEnv, 'filter.signIn.cookie.secretEnv');
  if (config.cookie.secret === undefined && secret !== undefined && secret.length < 32) {
    problem('filter.signIn.cookie.secretEnv', `environment variable ${config.cookie.secretEnv} must hold at least 32 characters`);
  }
  return { ...config, ...(clientSecret ? { clientSecret } : {}), cookie: { ...config.cookie, ...(secret ? { secret } : {}) } };
}
