/**
 * The `console` section of the config: the operator console served on the telemetry listener, signed
 * in through idgate's own issuer as a confidential client that the config registers implicitly, with
 * read-only and admin access by group. (Owned by the console; composed into the main schema in
 * src/config/schema.ts, resolved — secret from the environment, the client added — in config/load.ts.)
 */
import { z } from 'zod';
import { duration } from '../../config/duration.js';

/** The console's own paths on the telemetry listener: everything it serves is under this prefix. */
export const CONSOLE_PATH = '/console';

const groupList = z.array(z.string().min(1, { message: 'must not be empty' }));

export const consoleConfigSchema = z
  .strictObject({
    /**
     * Where browsers reach the telemetry listener (scheme, host, port; no path), e.g.
     * http://127.0.0.1:5558. The redirect URI is built from it, and https makes the cookies Secure.
     */
    publicURL: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) && ['', '/'].includes(new URL(value).pathname) && !new URL(value).search && !new URL(value).hash, {
      message: 'must be an http(s) URL without a path, query or fragment (where browsers reach telemetry.http, e.g. https://idgate-admin.example.com)',
    }),
    /** The console's client at the issuer; registered implicitly from this section (not in staticClients). */
    clientID: z.string().min(1, { message: 'must not be empty' }).default('idgate-console'),
    clientSecret: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
    clientSecretEnv: z.string().min(1).optional(),
    /** The redirect URI's path, under /console/. */
    redirectPath: z.string().regex(/^\/console\/[A-Za-z0-9._~/-]+$/, { message: 'must be a path under /console/ (e.g. /console/callback)' }).default('/console/callback'),
    /** Groups (the ID token's `groups` claim) that may look at everything. */
    readOnlyGroups: groupList.default([]),
    /** Groups that may also revoke sessions. */
    adminGroups: groupList.default([]),
    /** How long a console session lasts after sign-in. */
    sessionLifetime: duration('8h', { positive: true }),
    /** Policy files or directories shown; default: filter.policies. */
    policies: z.array(z.string().min(1)).optional(),
    /** Kubernetes inventory files (namespaces, workloads, services, the istio ConfigMap), read as `idgate validate` reads them. */
    inventory: z.array(z.string().min(1)).default([]),
  })
  .superRefine((section, ctx) => {
    if (!section.clientSecret && !section.clientSecretEnv) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'clientSecret or clientSecretEnv is required (the console is a confidential client of the issuer)' });
    if (section.clientSecret && section.clientSecretEnv) ctx.addIssue({ code: 'custom', path: ['clientSecretEnv'], message: 'give clientSecret or clientSecretEnv, not both' });
    if (section.readOnlyGroups.length === 0 && section.adminGroups.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['adminGroups'], message: 'name at least one group in readOnlyGroups or adminGroups: nobody could use the console' });
    }
  });

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

/** The redirect URI the console sends and the issuer registers. */
export function consoleRedirectURI(config: Pick<ConsoleConfig, 'publicURL' | 'redirectPath'>): string {
  return `${config.publicURL.replace(/\/+$/, '')}${config.redirectPath}`;
}

/**
 * The issuer's client for the console, as a static client: confidential, PKCE required, the
 * authorization code grant only, the one redirect URI. Added by the config loader, so every issuer
 * replica with the same `console` section knows it, and the management API shows it read-only.
 */
export function consoleClient(config: ConsoleConfig, secret: string) {
  return {
    id: config.clientID,
    secret,
    redirectURIs: [consoleRedirectURI(config)],
    trustedPeers: [],
    public: false,
    name: 'idgate console',
    requirePKCE: true,
    grantTypes: ['authorization_code' as const],
  };
}
