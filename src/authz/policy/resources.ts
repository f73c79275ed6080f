/**
 * The policy resources idgate reads, as zod schemas: Istio's security.istio.io v1/v1beta1
 * RequestAuthentication, AuthorizationPolicy and PeerAuthentication (spec objects strict, so an unknown
 * key is an error), and idgate's native RBAC (idgate.dev/v1alpha1 Role and RoleBinding). For
 * `idgate validate` only (the filter never reads them): DestinationRule, and the Kubernetes
 * documents it checks references against (inventory).
 */
import { z } from 'zod';
import { jwtRuleSchema } from '../config.js';

export const ISTIO_API_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'] as const;
export const NATIVE_API_VERSION = 'idgate.dev/v1alpha1';

const stringList = z.array(z.string());
const selectorSchema = z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() });
const targetRefSchema = z.strictObject({
  group: z.string().optional(),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
});

export const sourceSchema = z.strictObject({
  principals: stringList.optional(),
  notPrincipals: stringList.optional(),
  requestPrincipals: stringList.optional(),
  notRequestPrincipals: stringList.optional(),
  namespaces: stringList.optional(),
  notNamespaces: stringList.optional(),
  ipBlocks: stringList.optional(),
  notIpBlocks: stringList.optional(),
  remoteIpBlocks: stringList.optional(),
  notRemoteIpBlocks: stringList.optional(),
  serviceAccounts: stringList.optional(),
  notServiceAccounts: stringList.optional(),
  trustDomains: stringList.optional(),
  notTrustDomains: stringList.optional(),
});

export const operationSchema = z.strictObject({
  hosts: stringList.optional(),
  notHosts: stringList.optional(),
  ports: stringList.optional(),
  notPorts: stringList.optional(),
  methods: stringList.optional(),
  notMethods: stringList.optional(),
  paths: stringList.optional(),
  notPaths: stringList.optional(),
});

export const conditionSchema = z.strictObject({
  key: z.string().min(1),
  values: stringList.optional(),
  notValues: stringList.optional(),
});

export const ruleSchema = z.strictObject({
  from: z.array(z.strictObject({ source: sourceSchema })).optional(),
  to: z.array(z.strictObject({ operation: operationSchema })).optional(),
  when: z.array(conditionSchema).optional(),
});

export const authorizationPolicySpecSchema = z.strictObject({
  selector: selectorSchema.optional(),
  targetRef: targetRefSchema.optional(),
  targetRefs: z.array(targetRefSchema).optional(),
  rules: z.array(ruleSchema).optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']).optional(),
  provider: z.strictObject({ name: z.string() }).optional(),
});

export const requestAuthenticationSpecSchema = z.strictObject({
  selector: selectorSchema.optional(),
  targetRef: targetRefSchema.optional(),
  targetRefs: z.array(targetRefSchema).optional(),
  jwtRules: z.array(jwtRuleSchema).optional(),
});

const mtlsMode = z.enum(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);
export const peerAuthenticationSpecSchema = z.strictObject({
  selector: selectorSchema.optional(),
  mtls: z.strictObject({ mode: mtlsMode.optional() }).optional(),
  portLevelMtls: z.record(z.string(), z.strictObject({ mode: mtlsMode.optional() })).optional(),
});

/** Native RBAC: a role grants permissions (operations); a binding gives a role to subjects. */
export const roleSpecSchema = z.strictObject({
  permissions: z
    .array(
      z.strictObject({
        hosts: stringList.optional(),
        methods: stringList.optional(),
        paths: stringList.optional(),
        ports: stringList.optional(),
      }),
    )
    .min(1, { message: 'a role needs at least one permission' }),
});

export const roleBindingSpecSchema = z.strictObject({
  selector: selectorSchema.optional(),
  roles: z.array(z.string().min(1)).min(1, { message: 'a binding needs at least one role' }),
  subjects: z
    .array(
      z
        .strictObject({
          group: z.string().min(1).optional(),
          claim: z.strictObject({ name: z.string().min(1), values: z.array(z.string()).min(1) }).optional(),
          requestPrincipal: z.string().min(1).optional(),
          peerPrincipal: z.string().min(1).optional(),
        })
        .refine((s) => Object.keys(s).length === 1, { message: 'a subject has exactly one of group, claim, requestPrincipal, peerPrincipal' }),
    )
    .min(1, { message: 'a binding needs at least one subject' }),
  /** The claim that carries groups; "groups" by default (as idgate and Dex issue it). */
  groupsClaim: z.string().min(1).optional(),
});

export const metadataSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  creationTimestamp: z.union([z.string(), z.date()]).optional(),
});

/** Metadata of an inventory document: labels are read too (string values, as Kubernetes requires). */
export const inventoryMetadataSchema = metadataSchema.extend({ labels: z.record(z.string(), z.string()).optional() });

export type Source = z.output<typeof sourceSchema>;
export type Operation = z.output<typeof operationSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type Rule = z.output<typeof ruleSchema>;
export type AuthorizationPolicySpec = z.output<typeof authorizationPolicySpecSchema>;
export type RequestAuthenticationSpec = z.output<typeof requestAuthenticationSpecSchema>;
export type PeerAuthenticationSpec = z.output<typeof peerAuthenticationSpecSchema>;
export type RoleSpec = z.output<typeof roleSpecSchema>;
export type RoleBindingSpec = z.output<typeof roleBindingSpecSchema>;
export type MtlsMode = z.output<typeof mtlsMode>;

interface ResourceBase {
  name: string;
  namespace: string;
  /** Where it came from, for messages: file and 0-based document index. */
  file: string;
  document: number;
  /** The 1-based line of a field path (`spec.rules[0].to`; "" for the object), when the loader was asked to locate. */
  locate?: (path: string) => number | undefined;
  /** Order of appearance across all files; stands in for creationTimestamp when that is absent. */
  order: number;
  createdAt?: number;
  annotations: Record<string, string>;
}

export type PolicyResource =
  | (ResourceBase & { kind: 'AuthorizationPolicy'; spec: AuthorizationPolicySpec })
  | (ResourceBase & { kind: 'RequestAuthentication'; spec: RequestAuthenticationSpec })
  | (ResourceBase & { kind: 'PeerAuthentication'; spec: PeerAuthenticationSpec })
  | (ResourceBase & { kind: 'Role'; spec: RoleSpec })
  | (ResourceBase & { kind: 'RoleBinding'; spec: RoleBindingSpec });

export const SPEC_SCHEMAS = {
  AuthorizationPolicy: authorizationPolicySpecSchema,
  RequestAuthentication: requestAuthenticationSpecSchema,
  PeerAuthentication: peerAuthenticationSpecSchema,
  Role: roleSpecSchema,
  RoleBinding: roleBindingSpecSchema,
} as const;

/** DestinationRule (networking.istio.io): read by `idgate validate` only, for Kiali's mTLS and host checks. */
export const DESTINATION_RULE_API_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'] as const;

const clientTlsSchema = z.looseObject({ mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional() });
const trafficPolicySchema = z.looseObject({
  tls: clientTlsSchema.optional(),
  portLevelSettings: z.array(z.looseObject({ tls: clientTlsSchema.optional() })).optional(),
});

/** Only the fields the checks read are validated; the rest of Istio's DestinationRule passes as written. */
export const destinationRuleSpecSchema = z.looseObject({
  host: z.string().min(1),
  trafficPolicy: trafficPolicySchema.optional(),
  subsets: z.array(z.looseObject({ name: z.string().min(1), labels: z.record(z.string(), z.string()).optional(), trafficPolicy: trafficPolicySchema.optional() })).optional(),
  exportTo: z.array(z.string()).optional(),
});

export type DestinationRuleSpec = z.output<typeof destinationRuleSpecSchema>;
export type DestinationRuleResource = ResourceBase & { kind: 'DestinationRule'; spec: DestinationRuleSpec };

/** The Kubernetes documents `idgate validate` reads as inventory (what references are checked against), by apiVersion. */
export const INVENTORY_KINDS: Readonly<Record<string, ReadonlySet<string>>> = {
  v1: new Set(['Namespace', 'ServiceAccount', 'Pod', 'Service', 'ConfigMap']),
  'apps/v1': new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']),
};

/** An inventory document as found: its identity and the whole object, interpreted by the validator. */
export interface InventoryDocument {
  apiVersion: string;
  kind: string;
  name: string;
  /** As written (cluster-scoped kinds and defaulted ones have none). */
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  file: string;
  document: number;
  locate?: (path: string) => number | undefined;
  value: Record<string, unknown>;
}
