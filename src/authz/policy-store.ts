/**
 * Loads and compiles the policy set (files + the filter section's mesh-wide jwtRules + the in-process
 * issuer), and reloads it: a valid new set replaces the old one atomically; an invalid one is refused
 * and the old one stays. Every load is logged and counted with what triggered it, and runs the checks
 * of `idgate validate` that need the policy files alone (checkPolicies): each finding is logged and
 * counted by code and severity, and an error-level one refuses the set like an invalid policy.
 */
import type { Logger } from 'pino';
import { findingFromProblem, problemFromFinding, type Finding } from '../admin/validate/finding.js';
import { checkPolicies } from '../admin/validate/policy-checks.js';
import type { FilterConfig, JwtRuleSpec } from './config.js';
import { PolicyError, formatPolicyProblem, type FilterError } from './errors.js';
import type { Authenticator } from './jwt/authenticate.js';
import type { FilterMetrics } from './metrics.js';
import { loadPolicyFiles, policyFingerprint, scanPolicyPaths } from './policy/load.js';
import { defaultEscapedSlashesAction } from './policy/normalize-path.js';
import { PolicySet, type ScopedJwtRule } from './policy/policy-set.js';
import type { PolicyResource } from './policy/resources.js';

/** What asked for a (re)load: the first load, a file event, the periodic rescan, SIGHUP, or a caller. */
export type ReloadTrigger = 'startup' | 'watch' | 'rescan' | 'signal' | 'api';

export interface PolicyReload {
  trigger: ReloadTrigger;
  /** `unchanged`: a rescan found the files as they were last loaded; nothing was loaded or counted. */
  result: 'ok' | 'error' | 'unchanged';
  /** ok: the number of policies now in force. */
  policies?: number;
  /** error: why the new set was refused (the previous one stays in force). */
  problems?: string[];
}

export interface PolicyStoreOptions {
  config: FilterConfig;
  logger: Logger;
  authenticator: Authenticator;
  metrics: FilterMetrics;
  /** idgate's own issuer in this process, verified through the key set. */
  issuer?: string;
  /** Puts a reloaded set in force (the decision engine's swap). */
  apply: (set: PolicySet) => void;
}

export function meshJwtRules(config: FilterConfig, issuer: string | undefined): ScopedJwtRule[] {
  const rules: ScopedJwtRule[] = config.jwtRules.map((rule, i) => ({ source: `filter.jwtRules[${i}]`, rule }));
  if (issuer && !config.jwtRules.some((r) => r.issuer === issuer)) {
    const rule: JwtRuleSpec = { issuer, ...(config.issuerAudiences.length > 0 ? { audiences: config.issuerAudiences } : {}) };
    rules.push({ source: 'issuer', rule });
  }
  return rules;
}

export class PolicyStore {
  /** Loads run one after another, so the newest files always win the last swap. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The files as they were when last loaded (successfully or not): a rescan loads only when they differ. */
  private fingerprint: string | undefined;

  constructor(private readonly options: PolicyStoreOptions) {}

  /** The first load; throws (PolicyError with every problem) when the set is invalid. */
  load(): Promise<PolicySet> {
    return this.build('startup');
  }

  /** Reloads and applies the set; never throws. A rescan that finds nothing changed does nothing. */
  reload(trigger: Exclude<ReloadTrigger, 'startup'>): Promise<PolicyReload> {
    const next = this.chain.then(() => this.reloadOnce(trigger));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves when no load is running (before the filter closes what a load uses). */
  async idle(): Promise<void> {
    await this.chain;
  }

  private async reloadOnce(trigger: Exclude<ReloadTrigger, 'startup'>): Promise<PolicyReload> {
    if (trigger === 'rescan' && policyFingerprint(await scanPolicyPaths(this.options.config.policies)) === this.fingerprint) {
      this.options.logger.debug({ trigger }, 'policy files unchanged');
      return { trigger, result: 'unchanged' };
    }
    try {
      const set = await this.build(trigger);
      this.options.apply(set);
      return { trigger, result: 'ok', policies: set.policies.length };
    } catch (error) {
      return { trigger, result: 'error', problems: problemsOf(error) };
    }
  }

  /** The policy-only checks of `idgate validate`, with the filter's own path normalization and algorithms; each finding logged. */
  private check(resources: readonly PolicyResource[], trigger: ReloadTrigger): Finding[] {
    const { config, logger } = this.options;
    const escapedSlashes = config.pathWithEscapedSlashesAction ?? defaultEscapedSlashesAction(config.pathNormalization);
    const found = checkPolicies(resources, {
      rootNamespace: config.rootNamespace,
      paths: { normalization: config.pathNormalization, escapedSlashes },
      algorithms: new Set(config.algorithms),
    });
    for (const finding of found) logFinding(logger, trigger, finding);
    return found;
  }

  /** Loads, validates and compiles, then logs and counts the outcome. */
  private async build(trigger: ReloadTrigger): Promise<PolicySet> {
    const { config, logger, metrics } = this.options;
    try {
      const loaded = await loadPolicyFiles(config.policies, { rootNamespace: config.rootNamespace, locate: true });
      // Remembered even when the set is refused: a rescan retries a bad set only once the files change.
      this.fingerprint = loaded.fingerprint;
      const errors = loaded.problems.filter((p) => p.severity === 'error');
      for (const warning of loaded.problems.filter((p) => p.severity === 'warning')) logger.warn({ trigger }, formatPolicyProblem(warning));
      // The validate checks run on a structurally valid set only; the loader's problems are findings too.
      const found = errors.length > 0 ? [] : this.check(loaded.resources, trigger);
      for (const finding of [...loaded.problems.map(findingFromProblem), ...found]) metrics.findings.inc({ code: finding.code, severity: finding.severity });
      const refused = found.filter((f) => f.severity === 'error').map(problemFromFinding);
      if (errors.length > 0 || refused.length > 0) throw new PolicyError([...errors, ...refused]);
      const set = new PolicySet(loaded.resources, config.rootNamespace, meshJwtRules(config, this.options.issuer));
      await this.options.authenticator.prepare(set.allJwtRules());
      metrics.reloads.inc({ trigger, result: 'ok' });
      logger.info({ trigger, policies: set.policies.length, files: loaded.files.length }, trigger === 'startup' ? 'policies loaded' : 'policies reloaded');
      return set;
    } catch (error) {
      if (!(error instanceof PolicyError)) this.fingerprint = undefined; // not the files' fault: retry on the next rescan
      metrics.reloads.inc({ trigger, result: 'error' });
      const message = trigger === 'startup' ? 'policies refused' : 'policy reload refused; keeping the previous policies';
      // `errorCode`, not `code`: the logger redacts `code` (OAuth authorization codes).
      logger.error({ trigger, errorCode: (error as FilterError).code, problems: problemsOf(error) }, message);
      throw error;
    }
  }
}

function logFinding(logger: Logger, trigger: ReloadTrigger, finding: Finding): void {
  const fields = {
    trigger, finding: finding.code, severity: finding.severity, file: finding.file,
    ...(finding.line !== undefined ? { line: finding.line } : {}),
    ...(finding.kind ? { resource: `${finding.kind} ${finding.namespace}/${finding.name}` } : {}),
    ...(finding.path ? { path: finding.path } : {}),
    ...(finding.value !== undefined ? { value: finding.value } : {}),
  };
  const level = finding.severity === 'error' ? 'error' : finding.severity === 'warning' ? 'warn' : 'info';
  logger[level](fields, `${finding.code}: ${finding.message}`);
}

function problemsOf(error: unknown): string[] {
  return error instanceof PolicyError ? error.problems.map(formatPolicyProblem) : [(error as Error).message];
}
