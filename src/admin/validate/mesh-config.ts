/**
 * The mesh settings the checks depend on, from the `istio` ConfigMap's `mesh` key when one is given,
 * with Istio's defaults for what it does not say (auto mTLS on, root namespace istio-system, trust
 * domain cluster.local).
 */
import { parse } from 'yaml';
import { z } from 'zod';

export interface MeshSettings {
  rootNamespace: string;
  /** enableAutoMtls: with it on, Kiali skips the "DestinationRule enabling mTLS is missing" checks. */
  autoMtls: boolean;
  trustDomain: string;
  trustDomainAliases: readonly string[];
  /** Kiali's identity domain: the service DNS suffix, "svc." + trust domain. */
  identityDomain: string;
  /** outboundTrafficPolicy ALLOW_ANY (set explicitly): Kiali then lowers KIA0104/KIA0202 to warnings. */
  outboundAllowAny: boolean;
  defaultServiceExportTo?: readonly string[];
  defaultDestinationRuleExportTo?: readonly string[];
  /** The file of the ConfigMap these came from; none: Istio's defaults. */
  source?: string;
}

const meshSchema = z.looseObject({
  enableAutoMtls: z.boolean().optional(),
  rootNamespace: z.string().min(1).optional(),
  trustDomain: z.string().min(1).optional(),
  trustDomainAliases: z.array(z.string()).optional(),
  outboundTrafficPolicy: z.looseObject({ mode: z.enum(['ALLOW_ANY', 'REGISTRY_ONLY']).optional() }).optional(),
  defaultServiceExportTo: z.array(z.string()).optional(),
  defaultDestinationRuleExportTo: z.array(z.string()).optional(),
});

export function defaultMeshSettings(rootNamespace = 'istio-system'): MeshSettings {
  return meshSettings({}, rootNamespace);
}

function meshSettings(mesh: z.output<typeof meshSchema>, rootNamespace: string, source?: string): MeshSettings {
  const trustDomain = mesh.trustDomain ?? 'cluster.local';
  return {
    rootNamespace: mesh.rootNamespace ?? rootNamespace,
    autoMtls: mesh.enableAutoMtls ?? true,
    trustDomain,
    trustDomainAliases: mesh.trustDomainAliases ?? [],
    identityDomain: `svc.${trustDomain}`,
    outboundAllowAny: mesh.outboundTrafficPolicy?.mode === 'ALLOW_ANY',
    ...(mesh.defaultServiceExportTo ? { defaultServiceExportTo: mesh.defaultServiceExportTo } : {}),
    ...(mesh.defaultDestinationRuleExportTo ? { defaultDestinationRuleExportTo: mesh.defaultDestinationRuleExportTo } : {}),
    ...(source ? { source } : {}),
  };
}

/** Reads the ConfigMap's `data.mesh` text; a string result says why it cannot be read. */
export function readMeshConfig(data: unknown, rootNamespace: string, source: string): MeshSettings | string {
  const text = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).mesh : undefined;
  if (text === undefined) return meshSettings({}, rootNamespace, source);
  if (typeof text !== 'string') return 'data.mesh must be a string (the MeshConfig as YAML)';
  let value: unknown;
  try {
    value = parse(text) ?? {};
  } catch (error) {
    return `data.mesh is not YAML: ${(error as Error).message.split('\n')[0]}`;
  }
  const parsed = meshSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `data.mesh.${issue.path.join('.')}: ${issue.message}`;
  }
  return meshSettings(parsed.data, rootNamespace, source);
}
