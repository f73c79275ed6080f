/**
 * What the console's pages show about policies, built from the files the filter reads (and the
 * inventory files beside them) by `idgate validate`'s own code: every object with its findings and
 * where it came from, the mesh and namespace locks, and the compiled set `authz explain` decides with.
 * Rebuilt when older than a few seconds, so an edited file shows on the next page.
 */
import { parseFilterConfig, type FilterConfig } from '../../authz/config.js';
import { formatPolicyProblem } from '../../authz/errors.js';
import { loadPolicyFiles } from '../../authz/policy/load.js';
import { PolicySet } from '../../authz/policy/policy-set.js';
import type { DestinationRuleResource, PolicyResource } from '../../authz/policy/resources.js';
import { meshJwtRules } from '../../authz/policy-store.js';
import type { Config } from '../../config/load.js';
import type { Finding } from '../validate/finding.js';
import type { Workload } from '../validate/inventory.js';
import { MtlsView, type PeerAuthentication } from '../validate/mtls-status.js';
import { validateSources, type SkippedChecks } from '../validate/validate-sources.js';
import { meshLock, namespaceLock, type Lock } from './mtls-locks.js';
import { policyText, type PolicyText } from './policy-text.js';

export interface ShownObject {
  resource: PolicyResource | DestinationRuleResource;
  text: PolicyText;
  findings: Finding[];
  /** The 1-based line of the object in its file, where known. */
  line?: number;
}

export interface NamespaceSummary {
  name: string;
  lock: Lock;
  /** Objects by kind. */
  counts: Record<string, number>;
  findings: { error: number; warning: number; info: number };
}

export type ExplainSetup = { policies: PolicySet; config: FilterConfig; issuer?: string } | { problems: string[] };

export interface ConsoleModel {
  builtAt: number;
  rootNamespace: string;
  mesh: Lock;
  namespaces: NamespaceSummary[];
  objects: ShownObject[];
  /** Findings on no shown object (config, inventory documents). */
  otherFindings: Finding[];
  skipped: SkippedChecks[];
  workloads: readonly Workload[];
  explain: ExplainSetup;
}

export function objectKey(object: { kind: string; namespace: string; name: string }): string {
  return `${object.kind} ${object.namespace}/${object.name}`;
}

/** The policy files the console shows: console.policies, else the filter's. */
export function policyPaths(config: Config): string[] {
  return config.console?.policies ?? config.filter?.policies ?? [];
}

export async function buildConsoleModel(config: Config, options: { issuerInProcess: boolean; now: () => number }): Promise<ConsoleModel> {
  const filter = config.filter ?? parseFilterConfig({});
  const paths = policyPaths(config);
  const report = await validateSources([...paths, ...(config.console?.inventory ?? [])], { offline: true, config });
  const { resources, destinationRules, inventory } = report.loaded;
  const byObject = new Map<string, Finding[]>();
  for (const finding of report.findings) {
    const key = objectKey(finding);
    byObject.set(key, [...(byObject.get(key) ?? []), finding]);
  }
  const root = inventory.mesh.rootNamespace;
  const objects: ShownObject[] = [...resources, ...destinationRules].map((resource) => {
    const line = resource.locate?.('');
    return { resource, text: policyText(resource, root), findings: byObject.get(objectKey(resource)) ?? [], ...(line !== undefined ? { line } : {}) };
  });
  const shown = new Set(objects.map((o) => objectKey(o.resource)));
  const peerAuthentications = resources.filter((r): r is PeerAuthentication => r.kind === 'PeerAuthentication');
  const view = new MtlsView(peerAuthentications, destinationRules, inventory.mesh, inventory.services ?? []);
  const names = new Set<string>(inventory.namespaces ?? []);
  for (const object of objects) names.add(object.resource.namespace);
  for (const workload of inventory.workloads ?? []) names.add(workload.namespace);
  const namespaces = [...names].sort().map((name): NamespaceSummary => {
    const own = objects.filter((o) => o.resource.namespace === name);
    const counts: Record<string, number> = {};
    for (const o of own) counts[o.resource.kind] = (counts[o.resource.kind] ?? 0) + 1;
    const findings = { error: 0, warning: 0, info: 0 };
    for (const o of own) for (const f of o.findings) findings[f.severity] += 1;
    const paErrors = own.some((o) => o.resource.kind === 'PeerAuthentication' && o.findings.some((f) => f.severity === 'error'));
    return { name, lock: namespaceLock(view, name, paErrors), counts, findings };
  });
  return {
    builtAt: options.now(),
    rootNamespace: root,
    mesh: meshLock(view),
    namespaces,
    objects,
    otherFindings: report.findings.filter((f) => !shown.has(objectKey(f))),
    skipped: report.skipped,
    workloads: inventory.workloads ?? [],
    explain: await explainSetup(filter, paths, options.issuerInProcess ? config.issuer : undefined),
  };
}

/** The set `idgate authz explain --config` would decide with (the filter's loader, not validate's). */
async function explainSetup(filter: FilterConfig, paths: string[], issuer: string | undefined): Promise<ExplainSetup> {
  if (paths.length === 0) return { problems: ['no policy files: set filter.policies or console.policies'] };
  const loaded = await loadPolicyFiles(paths, { rootNamespace: filter.rootNamespace });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) return { problems: errors.map(formatPolicyProblem) };
  return { policies: new PolicySet(loaded.resources, filter.rootNamespace, meshJwtRules(filter, issuer)), config: filter, ...(issuer ? { issuer } : {}) };
}

/** The model, rebuilt at most every `maxAgeMs`; callers at the same moment share one build. */
export class ConsoleModelCache {
  private current: { at: number; model: Promise<ConsoleModel> } | undefined;

  constructor(private readonly build: () => Promise<ConsoleModel>, private readonly now: () => number, private readonly maxAgeMs = 3_000) {}

  get(): Promise<ConsoleModel> {
    const now = this.now();
    if (!this.current || now - this.current.at > this.maxAgeMs) {
      const model = this.build();
      this.current = { at: now, model };
      model.catch(() => {
        if (this.current?.model === model) this.current = undefined;
      });
    }
    return this.current.model;
  }
}
