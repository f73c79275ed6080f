/**
 * `idgate validate` without the printing: loads the files (policies, DestinationRules, inventory),
 * runs every check — the loader's, the policy-only ones, Kiali's reference and mTLS checks, the JWT
 * ones (online unless offline) — and says which checks were skipped for want of what.
 */
import { parseFilterConfig, type FilterConfig } from '../../authz/config.js';
import { defaultEscapedSlashesAction } from '../../authz/policy/normalize-path.js';
import { loadPolicyFiles, type LoadedPolicies } from '../../authz/policy/load.js';
import type { DestinationRuleResource, PolicyResource } from '../../authz/policy/resources.js';
import type { Config } from '../../config/load.js';
import { checkAuthorizationPolicyReferences } from './checkers/authorization-policy.js';
import { checkDestinationRuleHosts } from './checkers/destination-rule-hosts.js';
import { checkDestinationRuleMtls } from './checkers/destination-rule-mtls.js';
import { checkAudiences, checkJwtRuleKeys, type LocatedAudiences, type LocatedJwtRule } from './checkers/jwt-keys.js';
import { checkMtlsEnabled } from './checkers/mtls-enabled.js';
import { checkPeerAuthentications } from './checkers/peer-authentication.js';
import { checkWorkloadSelectors } from './checkers/workload-selector.js';
import { CODES, NEED_DESCRIPTIONS, type Code, type Need } from './codes.js';
import { checkContext } from './context.js';
import { compareFindings, findingFromProblem, type Finding, type Subject } from './finding.js';
import { readInventory, type Inventory } from './inventory.js';
import { checkPolicies, requestAuthenticationRules } from './policy-checks.js';

export interface ValidateOptions {
  /** --root-namespace; else the mesh config's, else the idgate config's filter.rootNamespace, else istio-system. */
  rootNamespace?: string;
  /** --config: clients for IDG0104, filter.jwtRules, algorithms and path normalization. */
  config?: Config;
  offline: boolean;
  /** --path-normalization, over the config's. */
  pathNormalization?: FilterConfig['pathNormalization'];
}

export interface SkippedChecks {
  codes: Code[];
  reason: string;
}

export interface ValidationReport {
  findings: Finding[];
  files: string[];
  /** Policies, DestinationRules and inventory documents read. */
  objects: number;
  skipped: SkippedChecks[];
  /** Documents of other kinds, not read: "VirtualService (networking.istio.io/v1)" and how many. */
  ignored?: ReadonlyMap<string, number>;
  /** What the checks read (the console shows it beside the findings). */
  loaded: { resources: readonly PolicyResource[]; destinationRules: readonly DestinationRuleResource[]; inventory: Inventory };
}

function available(inventory: Inventory, options: ValidateOptions): Record<Need, boolean> {
  return {
    namespaces: inventory.namespaces !== undefined,
    workloads: inventory.workloads !== undefined,
    serviceAccounts: inventory.serviceAccounts !== undefined,
    services: inventory.services !== undefined,
    network: !options.offline,
    config: options.config !== undefined,
  };
}

function skippedChecks(have: Record<Need, boolean>): SkippedChecks[] {
  const skipped: SkippedChecks[] = [];
  for (const need of Object.keys(have) as Need[]) {
    if (have[need]) continue;
    const codes = (Object.keys(CODES) as Code[]).filter((code) => (CODES[code].needs as readonly Need[]).includes(need));
    skipped.push({ codes, reason: NEED_DESCRIPTIONS[need] });
  }
  return skipped;
}

/** The config's own jwtRules (filter.jwtRules) and audiences for the in-process issuer (filter.issuerAudiences). */
function configRules(config: Config | undefined): { rules: LocatedJwtRule[]; audiences: LocatedAudiences[] } {
  if (!config?.filter) return { rules: [], audiences: [] };
  const subject: Subject = { kind: 'Config', name: 'filter', namespace: '', file: config.source };
  const rules = config.filter.jwtRules.map((rule, i) => ({ subject, path: `filter.jwtRules[${i}]`, rule }));
  const audiences = [
    ...rules.map(({ path, rule }) => ({ subject, path: `${path}.audiences`, issuer: rule.issuer, audiences: rule.audiences ?? [] })),
    { subject, path: 'filter.issuerAudiences', issuer: config.issuer, audiences: config.filter.issuerAudiences },
  ];
  return { rules, audiences };
}

async function load(paths: readonly string[], rootNamespace: string): Promise<{ loaded: LoadedPolicies; inventory: Inventory; inventoryFindings: Finding[] }> {
  const loaded = await loadPolicyFiles(paths, { rootNamespace, extras: true });
  const extras = loaded.extras!;
  const { inventory, findings } = readInventory(extras.inventory, loaded.resources.map((r) => r.namespace), rootNamespace);
  return { loaded, inventory, inventoryFindings: findings };
}

/** --root-namespace wins over the mesh config's. */
function withRoot(inventory: Inventory, rootNamespace: string | undefined): Inventory {
  return rootNamespace ? { ...inventory, mesh: { ...inventory.mesh, rootNamespace } } : inventory;
}

export async function validateSources(paths: readonly string[], options: ValidateOptions): Promise<ValidationReport> {
  const filter = options.config?.filter ?? parseFilterConfig({});
  let root = options.rootNamespace ?? filter.rootNamespace;
  let read = await load(paths, root);
  // The mesh config names the root namespace: read again with it (native policies default to it).
  if (!options.rootNamespace && read.inventory.mesh.rootNamespace !== root) {
    root = read.inventory.mesh.rootNamespace;
    read = await load(paths, root);
  }
  const { loaded, inventoryFindings } = read;
  const inventory = withRoot(read.inventory, options.rootNamespace);
  const destinationRules = loaded.extras!.destinationRules;
  const normalization = options.pathNormalization ?? filter.pathNormalization;
  const escapedSlashes = filter.pathWithEscapedSlashesAction ?? defaultEscapedSlashesAction(normalization);
  const algorithms = new Set(filter.algorithms);
  const context = checkContext({ resources: loaded.resources, destinationRules, inventory, paths: { normalization, escapedSlashes, rawTarget: false } });
  const have = available(inventory, options);
  const fromConfig = configRules(options.config);
  const jwtRules = [...requestAuthenticationRules(loaded.resources), ...fromConfig.rules];
  const findings = [
    ...loaded.problems.map(findingFromProblem),
    ...inventoryFindings,
    ...checkPolicies(loaded.resources, { rootNamespace: root, paths: { normalization, escapedSlashes }, algorithms }),
    ...checkWorkloadSelectors(context),
    ...checkAuthorizationPolicyReferences(context),
    ...checkMtlsEnabled(context),
    ...checkPeerAuthentications(context),
    ...checkDestinationRuleHosts(context),
    ...checkDestinationRuleMtls(context),
    // Inline JWKS of RequestAuthentications are checked with the policy checks; the config's and remote ones here.
    ...(await checkJwtRuleKeys(jwtRules.filter((r) => r.subject.kind === 'Config' || r.rule.jwks === undefined), { algorithms, offline: options.offline, fetchTimeoutMs: filter.jwks.fetchTimeout })),
  ];
  if (options.config) {
    const lists = [...jwtRules.filter((r) => r.subject.kind !== 'Config').map(({ subject, path, rule }) => ({ subject, path: `${path}.audiences`, issuer: rule.issuer, audiences: rule.audiences ?? [] })), ...fromConfig.audiences];
    findings.push(...checkAudiences(lists, options.config.issuer, new Set(options.config.staticClients.map((c) => c.id))));
  }
  const objects = loaded.resources.length + destinationRules.length + loaded.extras!.inventory.length;
  const { ignored } = loaded.extras!;
  return {
    findings: findings.sort(compareFindings), files: loaded.files, objects, skipped: skippedChecks(have), ...(ignored.size > 0 ? { ignored } : {}),
    loaded: { resources: loaded.resources, destinationRules, inventory },
  };
}
