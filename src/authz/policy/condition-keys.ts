/**
 * The `when` condition keys Istio accepts (conditions reference page, security.go ValidateAttribute),
 * parsed once: headers, JWT claims (nested with [a][b]), peer and connection attributes, dynamic
 * metadata; plus idgate's `request.auth.binding` (how the token is sender-constrained).
 */

export type ConditionKey =
  | { kind: 'header'; name: string }
  | { kind: 'claim'; path: string[] }
  | { kind: 'metadata'; filter: string; key: string }
  | {
      kind: 'attribute';
      name:
        | 'source.ip'
        | 'remote.ip'
        | 'source.namespace'
        | 'source.principal'
        | 'source.serviceAccount'
        | 'source.trustDomain'
        | 'request.auth.principal'
        | 'request.auth.audiences'
        | 'request.auth.presenter'
        | 'request.auth.binding'
        | 'destination.ip'
        | 'destination.port'
        | 'connection.sni';
    };

const ATTRIBUTES = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain',
  'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'request.auth.binding', 'destination.ip', 'destination.port', 'connection.sni',
]);

/** request.auth.binding's values: idgate's key, beside Istio's (binding/token-binding.ts). */
export const BINDING_VALUES: ReadonlySet<string> = new Set(['mtls', 'dpop', 'none']);

const REJECTED: Record<string, string> = {
  'destination.labels': 'destination.labels is not supported: use the policy selector',
  'destination.namespace': 'destination.namespace is not supported: use metadata.namespace',
  'destination.name': 'destination.name is only in v1alpha1 and is not supported',
  'destination.user': 'destination.user is only in v1alpha1 and is not supported',
};

/** Parses a key; a string result is the reason it is invalid. */
export function parseConditionKey(key: string): ConditionKey | string {
  if (ATTRIBUTES.has(key)) return { kind: 'attribute', name: key as Extract<ConditionKey, { kind: 'attribute' }>['name'] };
  const header = /^request\.headers\[([^\][]+)\]$/.exec(key);
  if (header) return { kind: 'header', name: header[1]!.toLowerCase() };
  if (key.startsWith('request.headers')) return `"${key}": use request.headers[<Name>]`;
  const claims = /^request\.auth\.claims((?:\[[^\][]+\])+)$/.exec(key);
  if (claims) return { kind: 'claim', path: claims[1]!.slice(1, -1).split('][') };
  if (key.startsWith('request.auth.claims')) return `"${key}": use request.auth.claims[<claim>] (nested: [a][b])`;
  const metadata = /^experimental\.envoy\.filters\.([a-z0-9_.]+)\[([^\][]+)\]$/.exec(key);
  if (metadata) return { kind: 'metadata', filter: `envoy.filters.${metadata[1]!}`, key: metadata[2]! };
  for (const [prefix, reason] of Object.entries(REJECTED)) if (key === prefix || key.startsWith(`${prefix}[`)) return reason;
  return `unknown attribute "${key}"`;
}

/** Keys CUSTOM policies may not use, and keys that need mTLS (peer identity). */
export const PEER_IDENTITY_ATTRIBUTES = new Set(['source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain']);
