/**
 * `idgate authz explain`: decides one request offline against policy files and says why: the
 * decision, the policy and rule that decided, and for every other applicable rule the first field that
 * did not match. Claims are taken as given (or decoded from a token without verifying it).
 */
import type { CheckInput, CheckResult } from './check-input.js';
import type { FilterConfig } from './config.js';
import { DecisionEngine, type PreparedRequest, type RequestAuthenticator } from './decide.js';
import type { Authentication } from './jwt/authenticate.js';
import { explainRuleBody } from './policy/compile-rule.js';
import type { PolicySet } from './policy/policy-set.js';

export interface ExplainRequest {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  /** Peer SPIFFE URI, e.g. spiffe://cluster.local/ns/default/sa/sleep */
  peer?: string;
  sourceIp?: string;
  remoteIp?: string;
  destinationIp?: string;
  port?: number;
  sni?: string;
  namespace?: string;
  /** "app=web,version=v1" */
  labels?: string;
  /** Verified JWT claims to assume (iss, sub, groups ...). */
  claims?: Record<string, unknown>;
}

export interface RuleExplanation {
  rule: number;
  matched: boolean;
  why?: string;
}

export interface PolicyExplanation {
  policy: string;
  action: string;
  dryRun: boolean;
  rules: RuleExplanation[];
}

export interface Explanation {
  result: CheckResult;
  workload: { namespace: string; labels: Record<string, string> };
  mtlsMode: string;
  /** False when authentication decided before any rule was looked at (STRICT without a peer, a bad token). */
  evaluated: boolean;
  peerPrincipal?: string;
  requestPrincipal?: string;
  policies: PolicyExplanation[];
}

class GivenClaims implements RequestAuthenticator {
  constructor(private readonly claims: Record<string, unknown> | undefined) {}
  async authenticate(): Promise<Authentication> {
    if (!this.claims) return { kind: 'anonymous' };
    const issuer = typeof this.claims.iss === 'string' ? this.claims.iss : 'unknown';
    return { kind: 'authenticated', payload: this.claims, rule: { issuer, forwardOriginalToken: true }, location: { kind: 'header', name: 'authorization', prefix: 'Bearer ' }, token: '' };
  }
}

export function explainInput(request: ExplainRequest): CheckInput {
  const method = request.method ?? 'GET';
  const path = request.path ?? '/';
  const host = request.host ?? 'localhost';
  const headers: Record<string, string> = { ':method': method, ':path': path, ':authority': host };
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  const ext: Record<string, string> = {};
  if (request.namespace) ext.namespace = request.namespace;
  if (request.labels !== undefined) ext.labels = request.labels;
  return {
    transport: 'explain', requestId: 'explain', method, path, host, scheme: 'http', headers,
    ...(request.peer ? { peerPrincipal: request.peer } : {}),
    ...(request.sourceIp ? { sourceIp: request.sourceIp } : {}),
    ...(request.remoteIp ? { remoteIp: request.remoteIp } : {}),
    ...(request.destinationIp ? { destinationIp: request.destinationIp } : {}),
    ...(request.port !== undefined ? { destinationPort: request.port } : {}),
    ...(request.sni ? { sni: request.sni } : {}),
    ...(Object.keys(ext).length > 0 ? { contextExtensions: ext } : {}),
  };
}

export async function explainRequest(config: FilterConfig, policies: PolicySet, request: ExplainRequest): Promise<Explanation> {
  const engine = new DecisionEngine(config, policies, new GivenClaims(request.claims));
  const input = explainInput(request);
  const prepared: PreparedRequest = await engine.prepare(input);
  const result = engine.decide(input, prepared);
  const attributes = prepared.attributes;
  const explanation: Explanation = {
    result,
    workload: { namespace: prepared.target.namespace, labels: { ...prepared.target.labels } },
    mtlsMode: prepared.view.mtlsMode(input.destinationPort),
    evaluated: attributes !== undefined,
    ...(prepared.peer ? { peerPrincipal: prepared.peer.principal } : {}),
    ...(attributes?.requestPrincipal ? { requestPrincipal: attributes.requestPrincipal } : {}),
    policies: prepared.view.policies.map((policy) => ({
      policy: policy.id,
      action: policy.action,
      dryRun: policy.dryRun,
      rules: attributes
        ? policy.rules.map((rule) => {
            const why = explainRuleBody(rule.body, attributes);
            return { rule: rule.index, matched: why === undefined, ...(why ? { why } : {}) };
          })
        : [],
    })),
  };
  return explanation;
}

export function formatExplanation(e: Explanation): string {
  const r = e.result;
  const lines = [
    `decision: ${r.decision.toUpperCase()} (${r.status}) reason=${r.reason}${r.policy ? ` policy=${r.policy} rule=${r.rule}` : ''}`,
    `workload: namespace=${e.workload.namespace} labels={${Object.entries(e.workload.labels).map(([k, v]) => `${k}=${v}`).join(',')}}  mTLS=${e.mtlsMode}`,
    `peer principal: ${e.peerPrincipal ?? '(none)'}  request principal: ${e.requestPrincipal ?? '(none)'}`,
  ];
  if (r.decision === 'deny' && r.body) lines.push(`body: ${r.body}`);
  if (e.policies.length === 0) lines.push('no policies apply to this workload');
  for (const p of e.policies) {
    const decided = r.policy === p.policy;
    lines.push(`${p.action}${p.dryRun ? ' (dry-run)' : ''} ${p.policy}${decided ? '  <- decided' : ''}`);
    if (!e.evaluated) lines.push('  (not evaluated: authentication decided first)');
    else if (p.rules.length === 0) lines.push('  (no rules: never matches)');
    for (const rule of p.rules) lines.push(`  rule[${rule.rule}]: ${rule.matched ? 'MATCH' : `no match: ${rule.why}`}`);
  }
  return `${lines.join('\n')}\n`;
}
