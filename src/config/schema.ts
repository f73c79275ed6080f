/**
 * The config file's shape, validated once with zod. Dex's config.yaml keys are accepted unchanged
 * where Dex has them; keys of our own (filter, signer.config.algorithm, oauth2.pkce, login) are added
 * where Dex has none. Every object is strict: an unknown key is an error, with a suggestion.
 * Each section's schema lives in config/schema/<section>.ts; this file composes them and checks what
 * spans sections.
 */
import { z } from 'zod';
import { consoleConfigSchema } from '../admin/console/config.js';
import { filterConfigSchema } from '../authz/config.js';
import { mfaConfigIssues, mfaConfigSchema } from '../sessions/mfa/config.js';
import { clientCertificateIssues } from './client-certificates.js';
import { connectorSchema } from './schema/connectors.js';
import { expirySchema } from './schema/expiry.js';
import { frontendSchema } from './schema/frontend.js';
import { grpcSchema } from './schema/grpc.js';
import { loginSchema } from './schema/login.js';
import { oauth2Schema } from './schema/oauth2.js';
import { sessionsSchema } from './schema/sessions.js';
import { signerSchema } from './schema/signer.js';
import { staticClientSchema } from './schema/static-clients.js';
import { staticPasswordSchema } from './schema/static-passwords.js';
import { storageSchema } from './schema/storage.js';
import { auditSchema, loggerSchema, telemetrySchema } from './schema/telemetry.js';
import { absoluteURL } from './schema/url.js';
import { webSchema } from './schema/web.js';

export { CLIENT_METADATA_KEYS, TOKEN_ENDPOINT_AUTH_METHODS } from './schema/client-metadata.js';
export { isLoopbackAddress, TLS_VERSIONS } from './schema/listener.js';
export { GRANT_TYPES, RESPONSE_TYPES } from './schema/oauth2.js';
export { bcryptHashOf } from './schema/static-passwords.js';

export const configSchema = z
  .strictObject({
    issuer: absoluteURL.refine((value) => !value.includes('?') && !value.includes('#'), {
      message: 'must not have a query or fragment',
    }),
    storage: storageSchema,
    web: webSchema.prefault({}),
    telemetry: telemetrySchema.prefault({}),
    grpc: grpcSchema.optional(),
    frontend: frontendSchema.optional(),
    expiry: expirySchema.prefault({}),
    oauth2: oauth2Schema.prefault({}),
    signer: signerSchema.prefault({}),
    staticClients: z.array(staticClientSchema).default([]),
    enablePasswordDB: z.boolean().default(false),
    staticPasswords: z.array(staticPasswordSchema).default([]),
    connectors: z.array(connectorSchema).default([]),
    logger: loggerSchema.prefault({}),
    audit: auditSchema.prefault({}),
    login: loginSchema.prefault({}),
    sessions: sessionsSchema.prefault({}),
    filter: filterConfigSchema.optional(),
    /** Our own: the operator console on the telemetry listener (admin/console/config.ts). */
    console: consoleConfigSchema.optional(),
    /** Dex's (master) multi-factor sign-in: TOTP and WebAuthn authenticators, the default chain (sessions/mfa/config.ts). */
    mfa: mfaConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.console && !config.telemetry.http) {
      ctx.addIssue({ code: 'custom', path: ['console'], message: 'the console is served on the telemetry listener: set telemetry.http too' });
    }
    if (!config.web.http && !config.web.https && !config.filter) {
      ctx.addIssue({ code: 'custom', path: ['web'], message: 'set web.http or web.https (or a filter section) so idgate has something to serve' });
    }
    const { tlsMinVersion, tlsMaxVersion } = config.web;
    if (tlsMinVersion && tlsMaxVersion && tlsMinVersion > tlsMaxVersion) {
      ctx.addIssue({ code: 'custom', path: ['web', 'tlsMaxVersion'], message: `is lower than tlsMinVersion (${tlsMinVersion})` });
    }
    if (config.grpc && !config.web.http && !config.web.https) {
      ctx.addIssue({ code: 'custom', path: ['grpc'], message: 'the management API runs beside the issuer: set web.http or web.https too' });
    }
    if (config.web.https && (!config.web.tlsCert || !config.web.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: ['web', 'https'], message: 'needs web.tlsCert and web.tlsKey' });
    }
    for (const issue of clientCertificateIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of mfaConfigIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    const seen = new Set<string>();
    config.connectors.forEach((connector, index) => {
      if (seen.has(connector.id)) ctx.addIssue({ code: 'custom', path: ['connectors', index, 'id'], message: `duplicate connector id "${connector.id}"` });
      seen.add(connector.id);
    });
    if (config.enablePasswordDB && seen.has('local')) {
      ctx.addIssue({ code: 'custom', path: ['connectors'], message: 'the connector id "local" is reserved for the password DB (enablePasswordDB)' });
    }
  });

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
