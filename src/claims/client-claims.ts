/**
 * A static client's claim rules, evaluated for each token it is given for a person: its user
 * validation rules over `user` and `scopes` must hold (or the token is refused with the rule's
 * message), then its `claims` add their values to the ID token, the access token, or both.
 */
import type { StoredIdentity } from '../storage/storage.js';
import type { ClientClaimRules } from './config.js';
import { checkRules, ClaimRuleError, withinInputLimits } from './connector-claims.js';
import { userVariable } from './user.js';
import { celValue, jsonValue, newBudget, ResultTypeError, type JsonValue } from './values.js';

/** What a client's expressions add, per token. */
export interface ClientTokenClaims {
  idToken: Record<string, JsonValue>;
  accessToken: Record<string, JsonValue>;
}

/** The person and the granted scopes, as the expressions see them. */
export interface TokenSubject {
  identity: StoredIdentity;
  connectorId: string;
  scopes: readonly string[];
}

function variablesOf(subject: TokenSubject): Record<string, unknown> {
  return withinInputLimits(() => ({ user: userVariable(subject.identity, subject.connectorId), scopes: celValue([...subject.scopes], 'scopes', newBudget()) }));
}

/** Throws ClaimRuleError when a rule does not hold or a claim cannot be made. */
export function evaluateClientClaims(rules: ClientClaimRules, subject: TokenSubject): ClientTokenClaims {
  const variables = variablesOf(subject);
  checkRules(rules.userValidationRules, variables);
  const claims: ClientTokenClaims = { idToken: {}, accessToken: {} };
  rules.claims.forEach((claim, index) => {
    let value: JsonValue;
    try {
      value = jsonValue(claim.expression.evaluate(variables));
    } catch (error) {
      const reason = error instanceof ResultTypeError ? error.message : (error as Error).message;
      throw new ClaimRuleError(`the claim "${claim.key}" could not be made for this user`, `claims[${index}]`, reason);
    }
    // As a connector's extra claims: null, "" and empty lists and maps leave the claim out.
    if (value === null || value === '' || (typeof value === 'object' && Object.keys(value).length === 0)) return;
    if (claim.tokens.includes('id_token')) claims.idToken[claim.key] = value;
    if (claim.tokens.includes('access_token')) claims.accessToken[claim.key] = value;
  });
  return claims;
}
