/**
 * A compiled, immutable policy set: every AuthorizationPolicy (and native RoleBinding) compiled once,
 * except CUSTOM ones (the proxy enforces those); RequestAuthentication and PeerAuthentication kept by
 * scope; and per-workload views (the policies that apply to one namespace + labels, indexed by action)
 * built on first use and cached.
 */
import type { JwtRuleSpec } from '../config.js';
import { compileRuleBody } from './compile-rule.js';
import { bindingToPolicy } from './native-rbac.js';
import type { AuthorizationPolicySpec, MtlsMode, PolicyResource } from './resources.js';
import { RuleIndex, ruleSegments, type CompiledRule } from './rule-index.js';

export interface TargetWorkload {
  namespace: string;
  labels: Readonly<Record<string, string>>;
  /** A cache key the caller already has (e.g. the raw context_extensions); derived when absent. */
  key?: string;
}

export interface CompiledPolicy {
  id: string;
  kind: 'AuthorizationPolicy' | 'RoleBinding';
  namespace: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  dryRun: boolean;
  selector?: Readonly<Record<string, string>>;
  rules: CompiledRule[];
}

export interface ScopedJwtRule {
  /** "ns/name[i]" of the RequestAuthentication, or "config[i]" / "issuer". */
  source: string;
  rule: JwtRuleSpec;
}

interface ScopedPeerAuthentication {
  namespace: string;
  selector?: Readonly<Record<string, string>>;
  mode?: MtlsMode;
  ports: ReadonlyMap<number, MtlsMode>;
  age: number;
}

export interface WorkloadPolicy {
  deny: RuleIndex;
  allow: RuleIndex;
  audit: RuleIndex;
  dryRunDeny: RuleIndex;
  dryRunAllow: RuleIndex;
  hasAllow: boolean;
  hasDryRunAllow: boolean;
  policies: readonly CompiledPolicy[];
  jwtRules: readonly ScopedJwtRule[];
  mtlsMode(port: number | undefined): Exclude<MtlsMode, 'UNSET'>;
}

const MAX_CACHED_WORKLOADS = 4096;

/** Istio's matchLabels: every label of the selector is on the workload (no selector: every workload). */
export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector)) if (labels[key] !== value) return false;
  return true;
}

export class PolicySet {
  readonly policies: CompiledPolicy[] = [];
  private readonly requestAuthentications: Array<{ namespace: string; selector?: Readonly<Record<string, string>>; rules: ScopedJwtRule[] }> = [];
  private readonly peerAuthentications: ScopedPeerAuthentication[] = [];
  private readonly views = new Map<string, WorkloadPolicy>();

  constructor(
    resources: readonly PolicyResource[],
    readonly rootNamespace: string,
    private readonly meshJwtRules: readonly ScopedJwtRule[] = [],
  ) {
    const roles = new Map(resources.flatMap((r) => (r.kind === 'Role' ? [[`${r.namespace}/${r.name}`, r] as const] : [])));
    let ordinal = 0;
    // Root-namespace policies first, then by file order: the order explain and first-match report.
    const ordered = [...resources].sort((a, b) => Number(b.namespace === rootNamespace) - Number(a.namespace === rootNamespace) || a.order - b.order);
    for (const r of ordered) {
      // CUSTOM is the mesh sending requests to an ext_authz provider (idgate): the proxy enforces it, not us.
      if (r.kind === 'AuthorizationPolicy' && r.spec.action === 'CUSTOM') continue;
      if (r.kind === 'AuthorizationPolicy' || r.kind === 'RoleBinding') {
        const spec: AuthorizationPolicySpec = r.kind === 'RoleBinding' ? bindingToPolicy(r, roles) : r.spec;
        const id = r.kind === 'RoleBinding' ? `rolebinding:${r.namespace}/${r.name}` : `${r.namespace}/${r.name}`;
        const action = spec.action === 'DENY' || spec.action === 'AUDIT' ? spec.action : 'ALLOW';
        const rules = (spec.rules ?? []).map((rule, index) => ({
          policy: id,
          index,
          ordinal: ordinal++,
          body: compileRuleBody(rule, r.namespace),
          ...(ruleSegments(rule) ? { segments: ruleSegments(rule)! } : {}),
        }));
        const selector = spec.selector?.matchLabels;
        this.policies.push({
          id, kind: r.kind, namespace: r.namespace, action, rules,
          dryRun: r.annotations['istio.io/dry-run'] === 'true',
          ...(selector ? { selector } : {}),
        });
      } else if (r.kind === 'RequestAuthentication') {
        const selector = r.spec.selector?.matchLabels;
        const rules = (r.spec.jwtRules ?? []).map((rule, i) => ({ source: `${r.namespace}/${r.name}[${i}]`, rule }));
        this.requestAuthentications.push({ namespace: r.namespace, rules, ...(selector ? { selector } : {}) });
      } else if (r.kind === 'PeerAuthentication') {
        const selector = r.spec.selector?.matchLabels;
        if (selector && r.namespace === rootNamespace) continue; // Istio ignores selector policies in the root namespace.
        const ports = new Map<number, MtlsMode>();
        for (const [port, value] of Object.entries(r.spec.portLevelMtls ?? {})) if (value.mode && value.mode !== 'UNSET') ports.set(Number(port), value.mode);
        this.peerAuthentications.push({
          namespace: r.namespace, ports, age: r.createdAt ?? r.order,
          ...(r.spec.mtls?.mode ? { mode: r.spec.mtls.mode } : {}),
          ...(selector ? { selector } : {}),
        });
      }
    }
  }

  /** Every jwtRule any workload may use (to start their key sources before serving). */
  allJwtRules(): ScopedJwtRule[] {
    return [...this.meshJwtRules, ...this.requestAuthentications.flatMap((ra) => ra.rules)];
  }

  /** The policies that apply to a workload, cached per namespace + labels. */
  viewFor(target: TargetWorkload): WorkloadPolicy {
    const key = target.key ?? `${target.namespace}\n${Object.entries(target.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
    const cached = this.views.get(key);
    if (cached) return cached;
    const view = this.buildView(target);
    if (this.views.size >= MAX_CACHED_WORKLOADS) this.views.delete(this.views.keys().next().value!);
    this.views.set(key, view);
    return view;
  }

  private applies(namespace: string, selector: Readonly<Record<string, string>> | undefined, target: TargetWorkload): boolean {
    return (namespace === this.rootNamespace || namespace === target.namespace) && selects(selector, target.labels);
  }

  private buildView(target: TargetWorkload): WorkloadPolicy {
    const policies = this.policies.filter((p) => this.applies(p.namespace, p.selector, target));
    const rulesOf = (action: CompiledPolicy['action'], dryRun: boolean) =>
      new RuleIndex(policies.filter((p) => p.action === action && p.dryRun === dryRun).flatMap((p) => p.rules));
    const jwtRules = [
      ...this.meshJwtRules,
      ...this.requestAuthentications.filter((ra) => this.applies(ra.namespace, ra.selector, target)).flatMap((ra) => ra.rules),
    ];
    return {
      deny: rulesOf('DENY', false),
      allow: rulesOf('ALLOW', false),
      audit: rulesOf('AUDIT', false),
      dryRunDeny: rulesOf('DENY', true),
      dryRunAllow: rulesOf('ALLOW', true),
      hasAllow: policies.some((p) => p.action === 'ALLOW' && !p.dryRun),
      hasDryRunAllow: policies.some((p) => p.action === 'ALLOW' && p.dryRun),
      policies,
      jwtRules,
      mtlsMode: this.peerAuthenticationFor(target),
    };
  }

  /**
   * PeerAuthentication merge: PERMISSIVE, then mesh, namespace, workload (oldest wins per level), then port.
   * Public for `idgate validate`, which asks it where peer-identity fields are used without STRICT.
   */
  peerAuthenticationFor(target: TargetWorkload): WorkloadPolicy['mtlsMode'] {
    const oldest = (list: ScopedPeerAuthentication[]) => list.sort((a, b) => a.age - b.age)[0];
    const mesh = oldest(this.peerAuthentications.filter((p) => p.namespace === this.rootNamespace && !p.selector));
    const namespace = target.namespace === this.rootNamespace ? undefined : oldest(this.peerAuthentications.filter((p) => p.namespace === target.namespace && !p.selector));
    const workload = oldest(this.peerAuthentications.filter((p) => p.namespace === target.namespace && p.selector && selects(p.selector, target.labels)));
    let mode: Exclude<MtlsMode, 'UNSET'> = 'PERMISSIVE';
    for (const level of [mesh, namespace, workload]) if (level?.mode && level.mode !== 'UNSET') mode = level.mode;
    const ports = workload?.ports;
    if (!ports || ports.size === 0) return () => mode;
    return (port) => {
      const portMode = port === undefined ? undefined : ports.get(port);
      return portMode && portMode !== 'UNSET' ? portMode : mode;
    };
  }
}
