/**
 * Istio's validation rules for policy resources (validation.go, plus what the proto comments require),
 * with idgate's own: targetRefs are not supported; CUSTOM policies are ignored (the proxy enforces them),
 * so what is wrong in them is only a warning. Where Istio's builder is lenient (a DENY policy with no
 * rules never matches), a warning too. Each problem names the field path.
 */
import type { PolicyProblem } from '../errors.js';
import { BINDING_VALUES, PEER_IDENTITY_ATTRIBUTES, parseConditionKey } from './condition-keys.js';
import { parseBlock } from './ip-match.js';
import { isPathTemplate, validatePathTemplate } from './path-template.js';
import type { AuthorizationPolicySpec, PolicyResource, RequestAuthenticationSpec } from './resources.js';
import { parseDuration } from '../../config/duration.js';

interface Found {
  path: string;
  message: string;
  severity: 'error' | 'warning';
  code?: string;
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const IP_KEYS = new Set(['source.ip', 'remote.ip', 'destination.ip']);

export function validateResource(resource: PolicyResource): Found[] {
  switch (resource.kind) {
    case 'AuthorizationPolicy':
      return resource.spec.action === 'CUSTOM' ? validateCustomPolicy(resource.spec) : validateAuthorizationPolicy(resource.spec);
    case 'RequestAuthentication':
      return validateRequestAuthentication(resource.spec);
    case 'PeerAuthentication': {
      const found: Found[] = [];
      const ports = resource.spec.portLevelMtls;
      if (ports && !resource.spec.selector) found.push(error('spec.portLevelMtls', 'port level mTLS needs a workload selector'));
      if (ports && Object.keys(ports).length === 0) found.push(error('spec.portLevelMtls', 'needs at least one port'));
      for (const port of Object.keys(ports ?? {})) {
        if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) found.push(error(`spec.portLevelMtls.${port}`, 'port must be 1-65535'));
      }
      return found;
    }
    default:
      return [];
  }
}

/** Checks across resources: duplicate names, bindings to roles that do not exist. */
export function validateResourceSet(resources: readonly PolicyResource[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  const roles = new Set(resources.filter((r) => r.kind === 'Role').map((r) => `${r.namespace}/${r.name}`));
  for (const r of resources) {
    const id = `${r.kind} ${r.namespace}/${r.name}`;
    if (seen.has(id)) problems.push({ file: r.file, document: r.document, resource: id, path: 'metadata.name', message: 'defined twice', severity: 'error' });
    seen.add(id);
    if (r.kind === 'RoleBinding') {
      r.spec.roles.forEach((role, i) => {
        if (!roles.has(`${r.namespace}/${role}`)) {
          problems.push({ file: r.file, document: r.document, resource: id, path: `spec.roles[${i}]`, message: `no Role "${role}" in namespace "${r.namespace}"`, severity: 'error' });
        }
      });
    }
  }
  return problems;
}

function error(path: string, message: string, code?: string): Found {
  return { path, message, severity: 'error', ...(code ? { code } : {}) };
}

function warning(path: string, message: string, code?: string): Found {
  return { path, message, severity: 'warning', ...(code ? { code } : {}) };
}

/** Source fields Istio refuses in a CUSTOM policy (the ext_authz call happens before peer and JWT identity are matched). */
const CUSTOM_UNSUPPORTED_SOURCES = [
  'principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts',
  'trustDomains', 'notTrustDomains', 'requestPrincipals', 'notRequestPrincipals',
] as const;

/**
 * A CUSTOM policy tells the proxy to call an ext_authz provider (idgate, in the set that sends traffic
 * here). The proxy enforces it, so idgate ignores it: it is not compiled, and everything wrong in it,
 * Istio's CUSTOM restrictions included, is a warning — it cannot change idgate's decisions.
 */
function validateCustomPolicy(spec: AuthorizationPolicySpec): Found[] {
  const found: Found[] = [warning('spec.action', 'ignored: CUSTOM policies are enforced by the proxy that calls idgate', 'IDG0501')];
  if (!spec.rules || spec.rules.length === 0) found.push(warning('spec.rules', 'a CUSTOM policy with no rules never triggers; add an empty rule {} to send every request'));
  if (!spec.provider?.name) found.push(warning('spec.provider.name', 'must not be empty'));
  (spec.rules ?? []).forEach((rule, r) => {
    (rule.from ?? []).forEach(({ source }, f) => {
      for (const field of CUSTOM_UNSUPPORTED_SOURCES) {
        if (source[field]?.length) found.push(warning(`spec.rules[${r}].from[${f}].source.${field}`, 'not supported with action CUSTOM'));
      }
    });
    (rule.when ?? []).forEach((condition, w) => {
      if (PEER_IDENTITY_ATTRIBUTES.has(condition.key) || condition.key.startsWith('request.auth.')) {
        found.push(warning(`spec.rules[${r}].when[${w}].key`, `"${condition.key}" is not supported with action CUSTOM`));
      }
    });
  });
  return [...found, ...validateAuthorizationPolicy(spec).map((f) => ({ ...f, severity: 'warning' as const }))];
}

function validateAuthorizationPolicy(spec: AuthorizationPolicySpec): Found[] {
  const found: Found[] = [];
  const action = spec.action ?? 'ALLOW';
  if (spec.provider && action !== 'CUSTOM') found.push(error('spec.provider', 'provider is only allowed with action CUSTOM'));
  if (spec.targetRef || spec.targetRefs) found.push(error(spec.targetRef ? 'spec.targetRef' : 'spec.targetRefs', 'targetRefs are not supported: use selector.matchLabels', 'IDG0502'));
  if (spec.selector && (spec.targetRef || spec.targetRefs)) found.push(error('spec.selector', 'only one of selector or targetRefs may be set'));
  if (action === 'DENY' && (!spec.rules || spec.rules.length === 0)) {
    found.push(warning('spec.rules', 'a DENY policy with no rules never matches; add an empty rule {} to deny everything'));
  }
  (spec.rules ?? []).forEach((rule, r) => {
    const at = `spec.rules[${r}]`;
    if (rule.from && rule.from.length === 0) found.push(error(`${at}.from`, 'must not be empty (omit it to match any source)'));
    if (rule.to && rule.to.length === 0) found.push(error(`${at}.to`, 'must not be empty (omit it to match any operation)'));
    (rule.from ?? []).forEach(({ source }, f) => {
      const s = `${at}.from[${f}].source`;
      if (Object.values(source).every((v) => v === undefined)) found.push(error(s, 'an empty source is not allowed'));
      if ((source.serviceAccounts || source.notServiceAccounts) && (source.principals || source.notPrincipals || source.namespaces || source.notNamespaces)) {
        found.push(error(s, 'serviceAccounts cannot be combined with principals or namespaces'));
      }
      for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
        (source[field] ?? []).forEach((block, i) => {
          if (!parseBlock(block)) found.push(error(`${s}.${field}[${i}]`, `"${block}" is not an IP address or CIDR block`));
        });
      }
      for (const field of ['serviceAccounts', 'notServiceAccounts'] as const) {
        (source[field] ?? []).forEach((sa, i) => {
          if (sa.includes('*') || sa.split('/').length > 2 || sa.length > 320) found.push(error(`${s}.${field}[${i}]`, `"${sa}" must be "sa" or "ns/sa" with no wildcard`));
        });
      }
      for (const field of ['trustDomains', 'notTrustDomains'] as const) {
        (source[field] ?? []).forEach((td, i) => {
          if (td.slice(1, -1).includes('*')) found.push(error(`${s}.${field}[${i}]`, `"${td}": a wildcard is only allowed at the start or end`));
        });
      }
      checkEmptyValues(source, s, found);
    });
    (rule.to ?? []).forEach(({ operation }, t) => {
      const o = `${at}.to[${t}].operation`;
      if (Object.values(operation).every((v) => v === undefined)) found.push(error(o, 'an empty operation is not allowed'));
      for (const field of ['paths', 'notPaths'] as const) {
        (operation[field] ?? []).forEach((path, i) => {
          if (isPathTemplate(path)) {
            const why = validatePathTemplate(path);
            if (why) found.push(error(`${o}.${field}[${i}]`, `invalid path template "${path}": ${why}`));
          } else if (path.includes('{') || path.includes('}')) {
            found.push(error(`${o}.${field}[${i}]`, `invalid path template "${path}": only {*} and {**} operators are allowed`));
          }
        });
      }
      for (const field of ['ports', 'notPorts'] as const) {
        (operation[field] ?? []).forEach((port, i) => {
          if (!/^\d+$/.test(port) || Number(port) > 65535) found.push(error(`${o}.${field}[${i}]`, `"${port}" is not a port (0-65535)`));
        });
      }
      for (const field of ['methods', 'notMethods'] as const) {
        (operation[field] ?? []).forEach((method, i) => {
          const ok = method === '*' || HTTP_METHODS.some((m) => m === method || (method.endsWith('*') && m.startsWith(method.slice(0, -1))) || (method.startsWith('*') && m.endsWith(method.slice(1))));
          if (!ok) found.push(warning(`${o}.${field}[${i}]`, 'Only HTTP methods and Istio wildcards are allowed (KIA0102)', 'KIA0102'));
        });
      }
      checkEmptyValues(operation, o, found);
    });
    (rule.when ?? []).forEach((condition, w) => {
      const c = `${at}.when[${w}]`;
      const key = parseConditionKey(condition.key);
      if (typeof key === 'string') found.push(error(`${c}.key`, key));
      if (!condition.values?.length && !condition.notValues?.length) found.push(error(c, 'needs values or notValues'));
      const all = [...(condition.values ?? []), ...(condition.notValues ?? [])];
      if (IP_KEYS.has(condition.key)) {
        for (const v of all) if (!parseBlock(v)) found.push(error(c, `"${v}" is not an IP address or CIDR block`));
      }
      if (condition.key === 'request.auth.binding') {
        for (const v of all) if (!BINDING_VALUES.has(v)) found.push(error(c, `"${v}" is not a binding: use mtls, dpop or none`));
      }
      if (condition.key === 'destination.port') {
        for (const v of all) if (!/^\d+$/.test(v) || Number(v) > 65535) found.push(error(c, `"${v}" is not a port (0-65535)`));
      }
    });
  });
  return found;
}

function checkEmptyValues(fields: Record<string, string[] | undefined>, at: string, found: Found[]): void {
  for (const [field, values] of Object.entries(fields)) {
    (values ?? []).forEach((value, i) => {
      if (value === '') found.push(error(`${at}.${field}[${i}]`, 'must not be empty'));
    });
  }
}

function validateRequestAuthentication(spec: RequestAuthenticationSpec): Found[] {
  const found: Found[] = [];
  if (spec.targetRef || spec.targetRefs) found.push(error(spec.targetRef ? 'spec.targetRef' : 'spec.targetRefs', 'targetRefs are not supported: use selector.matchLabels', 'IDG0502'));
  (spec.jwtRules ?? []).forEach((rule, i) => {
    const at = `spec.jwtRules[${i}]`;
    if (rule.jwks && rule.jwksUri) found.push(error(at, 'set at most one of jwks and jwksUri'));
    if (rule.jwksUri && !/^https?:\/\//.test(rule.jwksUri)) found.push(error(`${at}.jwksUri`, 'must be an http or https URL'));
    if (rule.jwks) {
      try {
        const parsed = JSON.parse(rule.jwks) as { keys?: Array<Record<string, unknown>> };
        if (!Array.isArray(parsed.keys)) found.push(error(`${at}.jwks`, 'must be a JWKS (an object with "keys")'));
        else if (parsed.keys.some((k) => 'd' in k)) found.push(warning(`${at}.jwks`, 'contains private key material'));
      } catch {
        found.push(error(`${at}.jwks`, 'is not valid JSON'));
      }
    }
    if (rule.timeout !== undefined && parseDuration(rule.timeout) === undefined) found.push(error(`${at}.timeout`, `"${rule.timeout}" is not a duration`));
  });
  return found;
}
