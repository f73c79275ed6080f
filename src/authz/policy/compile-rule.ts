/**
 * Compiles an AuthorizationPolicy rule into precomputed field checks with Istio's semantics: OR over
 * `from`, OR over `to`, AND over `when`; values ORed, notValues negated; a missing attribute fails a
 * positive field and passes a negative one. Each check is named so `explain` can say which one failed.
 */
import { claimValues, type RequestAttributes } from './attributes.js';
import { parseConditionKey } from './condition-keys.js';
import { compileIpMatcher } from './ip-match.js';
import { compilePathTemplate, isPathTemplate } from './path-template.js';
import type { Condition, Operation, Rule, Source } from './resources.js';
import { anyElement, compileStringMatcher, type StringPredicate } from './string-match.js';

export type AttributeTest = (attributes: RequestAttributes) => boolean;

export interface FieldCheck {
  /** e.g. `from[0].source.principals` or `when[1] request.auth.claims[groups]`. */
  field: string;
  test: AttributeTest;
}

export interface CompiledRuleBody {
  from?: FieldCheck[][];
  to?: FieldCheck[][];
  when: FieldCheck[];
}

function field(name: string, positive: AttributeTest, negate: boolean): FieldCheck {
  return { field: name, test: negate ? (a) => !positive(a) : positive };
}

type Match = (value: string | undefined) => boolean;

const nonEmpty: Match = (v) => v !== undefined && v !== '';
const exactly = (expected: string): Match => (v) => v === expected;
const withPrefix = (prefix: string): Match => (v) => v !== undefined && v.startsWith(prefix);
const withSuffix = (suffix: string): Match => (v) => v !== undefined && v.endsWith(suffix);

/**
 * One requestPrincipals value as Istio's requestPrincipalGenerator reads it: split at the last "/"
 * into iss and sub, then by where the value (not each part) has its "*". `*`: both non-empty.
 * Starts with "*": with a "/", iss `*` is any and `*x` a suffix, sub exact; without, any iss and sub
 * a suffix. Ends with "*": with a "/", iss exact, sub `*` any and `x*` a prefix; without, iss a prefix
 * and any sub. Otherwise both exact. Any other "*" is literal.
 */
function requestPrincipalMatch(value: string): { iss: Match; sub: Match } {
  const slash = value.lastIndexOf('/');
  const found = slash !== -1;
  const iss = found ? value.slice(0, slash) : value;
  const sub = found ? value.slice(slash + 1) : '';
  if (value === '*') return { iss: nonEmpty, sub: nonEmpty };
  if (value.startsWith('*')) {
    if (!found) return { iss: nonEmpty, sub: withSuffix(value.slice(1)) };
    return { iss: iss === '*' ? nonEmpty : withSuffix(iss.slice(1)), sub: exactly(sub) };
  }
  if (value.endsWith('*')) {
    if (!found) return { iss: withPrefix(value.slice(0, -1)), sub: nonEmpty };
    return { iss: exactly(iss), sub: sub === '*' ? nonEmpty : withPrefix(sub.slice(0, -1)) };
  }
  return { iss: exactly(iss), sub: exactly(sub) };
}

/** requestPrincipals and the request.auth.principal when-key: any value's iss and sub patterns both match. */
export function compileRequestPrincipals(values: readonly string[]): AttributeTest {
  const tests = values.map(requestPrincipalMatch);
  return (a) => {
    for (const { iss, sub } of tests) if (iss(a.issuer) && sub(a.subject)) return true;
    return false;
  };
}

const NON_ASCII = /[\u0080-\uffff]/;
const ASCII_UPPER = /[A-Z]+/g;

/** ASCII-only lower-casing, as Envoy's ignore_case compares (JavaScript's would fold "K" (U+212A) into "k"). */
function asciiLower(value: string): string {
  return NON_ASCII.test(value) ? value.replace(ASCII_UPPER, (m) => m.toLowerCase()) : value.toLowerCase();
}

/**
 * hosts: Istio's HostMatcher on :authority, as received (the port is part of it: `shop.example.com:8443`
 * does not match `shop.example.com`), case-insensitive; `*` is Envoy's present_match, true for every
 * HTTP request.
 */
function compileHosts(values: readonly string[]): AttributeTest {
  if (values.includes('*')) return () => true;
  const match = compileStringMatcher(values.map(asciiLower));
  return (a) => match(asciiLower(a.host));
}

function compilePorts(values: readonly string[], get: (a: RequestAttributes) => number | undefined): AttributeTest {
  const ports = new Set(values.map(Number));
  return (a) => {
    const port = get(a);
    return port !== undefined && ports.has(port);
  };
}

export function compilePaths(values: readonly string[]): AttributeTest {
  const templates = values.filter(isPathTemplate).map(compilePathTemplate);
  const plain = values.filter((v) => !isPathTemplate(v));
  const match: StringPredicate | undefined = plain.length > 0 ? compileStringMatcher(plain) : undefined;
  if (templates.length === 0 && match) return (a) => match(a.path);
  return (a) => {
    if (match?.(a.path)) return true;
    for (const template of templates) if (template(a.path)) return true;
    return false;
  };
}

function compileServiceAccounts(values: readonly string[], policyNamespace: string): AttributeTest {
  const accounts = new Set(values.map((v) => (v.includes('/') ? v : `${policyNamespace}/${v}`)));
  return (a) => a.sourceServiceAccount !== undefined && accounts.has(a.sourceServiceAccount);
}

type Compiler = (values: readonly string[], policyNamespace: string) => AttributeTest;

const SOURCE_FIELDS: Record<string, Compiler> = {
  principals: (v) => { const m = compileStringMatcher(v); return (a) => m(a.peerPrincipal); },
  requestPrincipals: (v) => compileRequestPrincipals(v),
  namespaces: (v) => { const m = compileStringMatcher(v); return (a) => m(a.sourceNamespace); },
  ipBlocks: (v) => { const m = compileIpMatcher(v); return (a) => m(a.sourceIp); },
  remoteIpBlocks: (v) => { const m = compileIpMatcher(v); return (a) => m(a.remoteIp); },
  serviceAccounts: compileServiceAccounts,
  trustDomains: (v) => { const m = compileStringMatcher(v); return (a) => m(a.trustDomain); },
};

const OPERATION_FIELDS: Record<string, Compiler> = {
  hosts: (v) => compileHosts(v),
  ports: (v) => compilePorts(v, (a) => a.destinationPort),
  methods: (v) => { const m = compileStringMatcher(v); return (a) => m(a.method); },
  paths: (v) => compilePaths(v),
};

function compileFields(fields: Source | Operation, table: Record<string, Compiler>, at: string, namespace: string): FieldCheck[] {
  const checks: FieldCheck[] = [];
  for (const [name, compile] of Object.entries(table)) {
    const negName = `not${name[0]!.toUpperCase()}${name.slice(1)}`;
    const values = (fields as Record<string, string[] | undefined>)[name];
    const notValues = (fields as Record<string, string[] | undefined>)[negName];
    if (values) checks.push(field(`${at}.${name}`, compile(values, namespace), false));
    if (notValues) checks.push(field(`${at}.${negName}`, compile(notValues, namespace), true));
  }
  return checks;
}

/** The positive test for one `when` key and a list of values. */
function compileCondition(key: string, values: readonly string[], namespace: string): AttributeTest {
  const parsed = parseConditionKey(key);
  if (typeof parsed === 'string') return () => false;
  switch (parsed.kind) {
    case 'header': {
      const name = parsed.name;
      if (values.includes('*')) return (a) => a.headers[name] !== undefined;
      const m = compileStringMatcher(values);
      return (a) => m(a.headers[name]);
    }
    case 'claim': {
      const m = anyElement(compileStringMatcher(values));
      const path = parsed.path;
      return (a) => m(claimValues(a, path));
    }
    case 'metadata': {
      const listValues = values.filter((v) => v.startsWith('[') && v.endsWith(']')).map((v) => v.slice(1, -1));
      const plain = compileStringMatcher(values.filter((v) => !(v.startsWith('[') && v.endsWith(']'))));
      const listMatch = anyElement(compileStringMatcher(listValues));
      const { filter, key: metaKey } = parsed;
      return (a) => {
        const value = a.filterMetadata?.[filter]?.[metaKey];
        if (typeof value === 'string') return plain(value);
        if (Array.isArray(value)) return listMatch(value.filter((v): v is string => typeof v === 'string'));
        return false;
      };
    }
    case 'attribute':
      switch (parsed.name) {
        case 'source.ip': return SOURCE_FIELDS.ipBlocks!(values, namespace);
        case 'remote.ip': return SOURCE_FIELDS.remoteIpBlocks!(values, namespace);
        case 'source.namespace': return SOURCE_FIELDS.namespaces!(values, namespace);
        case 'source.principal': return SOURCE_FIELDS.principals!(values, namespace);
        case 'source.serviceAccount': return compileServiceAccounts(values, namespace);
        case 'source.trustDomain': return SOURCE_FIELDS.trustDomains!(values, namespace);
        case 'request.auth.principal': return compileRequestPrincipals(values);
        case 'request.auth.audiences': { const m = anyElement(compileStringMatcher(values)); return (a) => m(a.audiences); }
        case 'request.auth.presenter': { const m = compileStringMatcher(values); return (a) => m(a.presenter); }
        case 'request.auth.binding': { const m = anyElement(compileStringMatcher(values)); return (a) => m(a.binding); }
        case 'destination.ip': { const m = compileIpMatcher(values); return (a) => m(a.destinationIp); }
        case 'destination.port': return compilePorts(values, (a) => a.destinationPort);
        case 'connection.sni': { const m = compileStringMatcher(values); return (a) => m(a.sni); }
      }
  }
}

function compileWhen(conditions: readonly Condition[], namespace: string): FieldCheck[] {
  const checks: FieldCheck[] = [];
  conditions.forEach((c, i) => {
    if (c.values?.length) checks.push(field(`when[${i}] ${c.key}`, compileCondition(c.key, c.values, namespace), false));
    if (c.notValues?.length) checks.push(field(`when[${i}] ${c.key} (notValues)`, compileCondition(c.key, c.notValues, namespace), true));
  });
  return checks;
}

export function compileRuleBody(rule: Rule, policyNamespace: string): CompiledRuleBody {
  return {
    ...(rule.from ? { from: rule.from.map(({ source }, i) => compileFields(source, SOURCE_FIELDS, `from[${i}].source`, policyNamespace)) } : {}),
    ...(rule.to ? { to: rule.to.map(({ operation }, i) => compileFields(operation, OPERATION_FIELDS, `to[${i}].operation`, policyNamespace)) } : {}),
    when: compileWhen(rule.when ?? [], policyNamespace),
  };
}

function allPass(checks: readonly FieldCheck[], a: RequestAttributes): boolean {
  for (const check of checks) if (!check.test(a)) return false;
  return true;
}

function anyBranch(branches: readonly FieldCheck[][], a: RequestAttributes): boolean {
  for (const branch of branches) if (allPass(branch, a)) return true;
  return false;
}

export function ruleBodyMatches(body: CompiledRuleBody, a: RequestAttributes): boolean {
  if (body.from && !anyBranch(body.from, a)) return false;
  if (body.to && !anyBranch(body.to, a)) return false;
  return allPass(body.when, a);
}

/** Why a rule did not match (the first failing check of each branch), or undefined when it matches. */
export function explainRuleBody(body: CompiledRuleBody, a: RequestAttributes): string | undefined {
  const failing = (checks: readonly FieldCheck[]) => checks.find((c) => !c.test(a))?.field;
  for (const [side, branches] of [['from', body.from], ['to', body.to]] as const) {
    if (branches && !anyBranch(branches, a)) return `no ${side} matched: ${branches.map(failing).join('; ')} did not match`;
  }
  const when = failing(body.when);
  return when ? `${when} did not match` : undefined;
}
