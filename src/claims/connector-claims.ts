/**
 * A connector's claim rules applied to what it read, in Kubernetes' order: the claim validation
 * rules over `claims`, then the mappings into the identity, then the user validation rules over the
 * mapped `user`. A rule that does not hold refuses the login with its message (the person reads it
 * on the error page); a mapping that fails is an invalid upstream answer naming the mapping.
 */
import { ConnectorError, type Identity } from '../connector.js';
import type { CompiledExpression } from './cel.js';
import type { CompiledRule, ConnectorClaimRules } from './config.js';
import { userVariable } from './user.js';
import { celMap, InputLimitError, jsonValue, newBudget, ResultTypeError, type JsonValue } from './values.js';

/** A login (or token) a rule refused; `rule` names it in the config, `detail` says why it did not hold when it failed to evaluate. */
export class ClaimRuleError extends ConnectorError {
  constructor(
    message: string,
    readonly rule: string,
    readonly detail?: string,
  ) {
    super('account_not_allowed', message);
    this.name = 'ClaimRuleError';
  }
}

/** Reads input for the expressions; a value over a cap refuses with the cap named. */
export function withinInputLimits<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InputLimitError) throw new ClaimRuleError(`the sign-in cannot be checked: ${error.message} (idgate's limit)`, 'input limits');
    throw error;
  }
}

/** The claims the rules read, as CEL values within the input caps. */
export function claimsVariable(rules: Pick<ConnectorClaimRules, 'claimNames'>, claims: Record<string, unknown> | undefined): Map<string, unknown> {
  return withinInputLimits(() => celMap(claims ?? {}, 'claims', newBudget(), 0, rules.claimNames));
}

/** Every rule must evaluate to true; false or an evaluation error refuses with the rule's message. */
export function checkRules(rules: readonly CompiledRule[], variables: Record<string, unknown>): void {
  for (const rule of rules) {
    let result: unknown;
    try {
      result = rule.expression.evaluate(variables);
    } catch (error) {
      throw new ClaimRuleError(rule.message, rule.rule, (error as Error).message);
    }
    if (result !== true) throw new ClaimRuleError(rule.message, rule.rule, result === false ? undefined : `the rule produced ${typeof result}, not a bool`);
  }
}

function mappingFailed(field: string, reason: string): ConnectorError {
  return new ConnectorError('invalid_response', `claimMappings.${field}: ${reason}`);
}

function evaluateMapping(field: string, expression: CompiledExpression, variables: Record<string, unknown>): unknown {
  try {
    return expression.evaluate(variables);
  } catch (error) {
    throw mappingFailed(field, (error as Error).message);
  }
}

function text(field: string, value: unknown, required: boolean): string | undefined {
  if (typeof value !== 'string') throw mappingFailed(field, `produced ${typeof value}, not a string`);
  if (value === '' && required) throw mappingFailed(field, 'produced an empty string');
  return value === '' ? undefined : value;
}

function groupList(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (!Array.isArray(value) || value.some((group) => typeof group !== 'string')) throw mappingFailed('groups', 'produced something other than a string or a list of strings');
  return value as string[];
}

/** An extra claim's value; null, "" and empty lists and maps leave the claim out (Kubernetes' rule). */
function extraValue(key: string, value: unknown): JsonValue | undefined {
  let json: JsonValue;
  try {
    json = jsonValue(value);
  } catch (error) {
    if (error instanceof ResultTypeError) throw mappingFailed(`extra "${key}"`, error.message);
    throw error;
  }
  const empty = json === null || json === '' || (Array.isArray(json) ? json.length === 0 : typeof json === 'object' && Object.keys(json).length === 0);
  return empty ? undefined : json;
}

/** `identity` (with the upstream's `claims`) after the rules: the mapped identity, its raw claims dropped. */
export function applyConnectorClaims(rules: ConnectorClaimRules, identity: Identity, connectorId: string): Identity {
  const { claims: raw, ...mapped } = identity;
  const variables = { claims: claimsVariable(rules, raw) };
  checkRules(rules.claimValidationRules, variables);
  const { username, uid, preferredUsername, email, emailVerified, groups, extra } = rules.mappings;
  if (uid) mapped.userId = text('uid', evaluateMapping('uid', uid, variables), true)!;
  if (username) mapped.username = text('username', evaluateMapping('username', username, variables), true)!;
  if (preferredUsername) mapped.preferredUsername = text('preferredUsername', evaluateMapping('preferredUsername', preferredUsername, variables), false);
  if (email) mapped.email = text('email', evaluateMapping('email', email, variables), false);
  if (emailVerified) {
    const verified = evaluateMapping('emailVerified', emailVerified, variables);
    if (typeof verified !== 'boolean') throw mappingFailed('emailVerified', `produced ${typeof verified}, not a bool`);
    mapped.emailVerified = verified;
  }
  if (groups) mapped.groups = groupList(evaluateMapping('groups', groups, variables));
  if (extra.length > 0) {
    const claims: Record<string, JsonValue> = {};
    for (const claim of extra) {
      const value = extraValue(claim.key, evaluateMapping(`extra "${claim.key}"`, claim.expression, variables));
      if (value !== undefined) claims[claim.key] = value;
    }
    mapped.extra = claims;
  }
  if (rules.userValidationRules.length > 0) {
    checkRules(rules.userValidationRules, { user: withinInputLimits(() => userVariable(mapped, connectorId)) });
  }
  return mapped;
}
