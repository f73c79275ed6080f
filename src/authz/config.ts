/**
 * The `filter` section of the config: where the ext_authz listeners bind and where policies come from.
 * (Owned by the filter; composed into the main schema in src/config/schema.ts.)
 */
import { z } from 'zod';

export const filterConfigSchema = z.strictObject({
  /** gRPC ext_authz listener (envoy.service.auth.v3.Authorization). */
  grpc: z.string().optional(),
  /** HTTP listener for Envoy HTTP ext_authz, nginx auth_request and Traefik ForwardAuth. */
  http: z.string().optional(),
  /** Istio YAML / native RBAC files or directories. */
  policies: z.array(z.string()).default([]),
});

export type FilterConfig = z.output<typeof filterConfigSchema>;
