/**
 * Loads and compiles the policy set (files + the filter section's mesh-wide jwtRules + the in-process
 * issuer), and reloads it: a valid new set replaces the old one atomically; an invalid one is refused,
 * the old one stays, and the error is logged and counted.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { FilterConfig, JwtRuleSpec } from './config.js';
import { PolicyError, formatPolicyProblem } from './errors.js';
import type { Authenticator } from './jwt/authenticate.js';
import { loadPolicyFiles } from './policy/load.js';
import { PolicySet, type ScopedJwtRule } from './policy/policy-set.js';

export interface PolicyStoreOptions {
  config: FilterConfig;
  logger: Logger;
  authenticator: Authenticator;
  /** idgate's own issuer in this process, verified through the key set. */
  issuer?: string;
  onReload?: (ok: boolean) => void;
}

export function meshJwtRules(config: FilterConfig, issuer: string | undefined): ScopedJwtRule[] {
  const rules: ScopedJwtRule[] = config.jwtRules.map((rule, i) => ({ source: `filter.jwtRules[${i}]`, rule }));
  if (issuer && !config.jwtRules.some((r) => r.issuer === issuer)) {
    const rule: JwtRuleSpec = { issuer, ...(config.issuerAudiences.length > 0 ? { audiences: config.issuerAudiences } : {}) };
    rules.push({ source: 'issuer', rule });
  }
  return rules;
}

/** Loads, validates and compiles; throws PolicyError with every problem when the set is invalid. */
export async function buildPolicySet(options: PolicyStoreOptions): Promise<PolicySet> {
  const { config } = options;
  const loaded = await loadPolicyFiles(config.policies, { rootNamespace: config.rootNamespace });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  for (const warning of loaded.problems.filter((p) => p.severity === 'warning')) options.logger.warn(formatPolicyProblem(warning));
  if (errors.length > 0) throw new PolicyError(errors);
  const set = new PolicySet(loaded.resources, config.rootNamespace, meshJwtRules(config, options.issuer));
  await options.authenticator.prepare(set.allJwtRules());
  return set;
}

/** Watches the policy paths; calls `reload` (debounced) on any change. */
export function watchPolicies(paths: readonly string[], reload: () => void, logger: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 200);
    timer.unref();
  };
  for (const path of paths) {
    try {
      const watcher = watch(path, { recursive: true, persistent: false }, schedule);
      watcher.on('error', (error) => logger.warn({ path, err: { message: error.message } }, 'policy watch failed'));
      watchers.push(watcher);
    } catch (error) {
      logger.warn({ path, err: { message: (error as Error).message } }, 'cannot watch policy path; reload on demand only');
    }
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
