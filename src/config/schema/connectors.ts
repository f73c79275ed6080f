/**
 * One entry of `connectors`: Dex's keys, with the connector's own `config` left to its type's schema,
 * plus our claim mappings and second factors.
 */
import { z } from 'zod';
import { CONNECTOR_CLAIM_KEYS } from '../../claims/config.js';
import { CONNECTOR_MFA_KEYS } from '../../sessions/mfa/config.js';

export const connectorSchema = z.strictObject({
  type: z.string().min(1),
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, { message: 'must be letters, digits, ".", "_" or "-"' }),
  name: z.string().min(1),
  /** Validated against the connector type's own schema by the loader. */
  config: z.unknown().optional(),
  grantTypes: z.array(z.string()).optional(),
  /** Our own (Kubernetes' AuthenticationConfiguration names): CEL claim mappings and rules, docs/claims.md. */
  ...CONNECTOR_CLAIM_KEYS,
  /** Our own: authenticators this connector's logins must pass (sessions/mfa/config.ts). */
  ...CONNECTOR_MFA_KEYS,
});
