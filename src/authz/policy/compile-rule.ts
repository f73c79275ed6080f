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

/** request.auth.principal patterns: split at the last "/" into iss and sub, each matched on its own. */
export function compileRequestPrincipals(values: readonly string[]): AttributeTest {
  const tests = values.map((value): AttributeTest => {
    if (value === '*') return (a) => !!a.issuer && !!a.subject;
    const slash = value.lastIndexOf('/');
    if (slash === -1) {
      if (value.endsWith('*')) {
        const issuer = compileStringMatcher([value]);
        return (a) => issuer(a.issuer) && !!a.subject;
      }
      if (value.startsWith('*')) {
        const subject = compileStringMatcher([value]);
        return (a) => !!a.issuer && subject(a.subject);
      }
      return (a) => a.requestPrincipal === value;
    }
    const issuer = compileStringMatcher([value.slice(0, slash)]);
    const subject = compileStringMatcher([value.slice(slash + 1)]);
    return (a) => issuer(a.issuer) && subject(a.subject);
  });
  return (a) => {
    for (const test of tests) if (test(a)) return true;
    return false;
  };
}

function compileHosts(values: readonly string[]): AttributeTest {
  const match = compileStringMatcher(values, true);
  return (a) => {
    if (match(a.host)) return true;
    const colon = a.host.lastIndexOf(':');
    return colon > a.host.lastIndexOf(']') && colon !== -1 ? match(a.host.slice(0, colon)) : false;
  };
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
