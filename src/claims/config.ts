/**
 * The config keys that hold claim expressions, and their compilation: zod reads each expression and
 * compiles it on the spot (cel.ts), so a syntax, type or cost problem is a config problem at the
 * expression's own path and line, which `idgate check` reports with the rest.
 *
 * Per connector, Kubernetes' AuthenticationConfiguration names: `claimMappings` (username, uid,
 * groups, extra, and idgate's preferredUsername, email, emailVerified), `claimValidationRules`
 * over `claims`, `userValidationRules` over `user`. Per static client: `claims` (extra claims in its
 * tokens) and `userValidationRules` (over `user` and `scopes`; a refusal refuses the token).
 */
import { z } from 'zod';
import { compileExpression, ExpressionError, RESULT_TYPES, type CompiledExpression, type ExpressionEnvironment, type ResultType } from './cel.js';

/** Claims idgate sets itself in every token: no expression may write them. */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'nonce', 'azp', 'at_hash', 'c_hash', 'sid', 'amr', 'acr', 'cnf', 'act', 'client_id', 'scope',
]);

/** The identity's own claims: a connector maps them through claimMappings' fields, not `extra`. */
const IDENTITY_CLAIMS: Readonly<Record<string, string>> = {
  email: 'email', email_verified: 'emailVerified', name: 'username', preferred_username: 'preferredUsername', groups: 'groups', federated_claims: '',
};

export interface CompiledRule {
  expression: CompiledExpression;
  message: string;
  /** Where it is in the config, relative to its connector or client (`claimValidationRules[1]`). */
  rule: string;
}

export interface CompiledExtraClaim {
  key: string;
  expression: CompiledExpression;
}

/** A position inside the expression, 1-based, for the message. */
function positionOf(source: string, offset: number | undefined): string {
  if (offset === undefined) return '';
  const before = source.slice(0, offset).split('\n');
  const column = before[before.length - 1]!.length + 1;
  return before.length > 1 ? ` (expression line ${before.length}, column ${column})` : ` (column ${column})`;
}

/** An expression string compiled for `kind`; a problem is an issue at `at` (the key holding it). */
function expressionSchema(kind: ExpressionEnvironment, result: ResultType) {
  return z
    .string()
    .min(1, { message: 'must not be empty' })
    .max(10_000, { message: 'must be at most 10000 characters' })
    .transform((source, ctx): CompiledExpression => {
      try {
        return compileExpression(source, kind, result);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        ctx.addIssue({ code: 'custom', message: `${error.message}${positionOf(source, error.offset)}`, input: source });
        return z.NEVER;
      }
    });
}

/** Refuses a Kubernetes key idgate does not take, saying what to write instead. */
const insteadWrite = (hint: string) =>
  z.unknown().refine((value) => value === undefined, { message: `is not supported: ${hint}` }).optional();

/** A rule's message is shown to the person and may travel as error_description, whose characters RFC 6749 §5.2 limits. */
const ruleMessage = z
  .string()
  .min(1, { message: 'must not be empty' })
  .max(500, { message: 'must be at most 500 characters' })
  .regex(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/, { message: 'must be printable ASCII without " or \\ (it may be sent as an error_description, RFC 6749 §5.2)' });

function rulesSchema(kind: ExpressionEnvironment, key: string) {
  return z
    .array(
      z.strictObject({
        expression: expressionSchema(kind, RESULT_TYPES.bool),
        message: ruleMessage,
        claim: insteadWrite('write the rule as an expression, e.g. expression: claims.hd == "example.com"'),
        requiredValue: insteadWrite('write the rule as an expression, e.g. expression: claims.hd == "example.com"'),
      }),
    )
    .transform((rules): CompiledRule[] => rules.map((rule, index) => ({ expression: rule.expression, message: rule.message, rule: `${key}[${index}]` })))
    .optional();
}

function mappingSchema(result: ResultType) {
  return z
    .strictObject({
      expression: expressionSchema('claims', result),
      claim: insteadWrite('write expression: claims.<name> (a prefix goes in it: "oidc:" + claims.<name>)'),
      prefix: insteadWrite('put the prefix in the expression: "oidc:" + claims.<name>'),
    })
    .transform((mapping) => mapping.expression)
    .optional();
}

const claimName = z.string().min(1, { message: 'must not be empty' }).max(256, { message: 'must be at most 256 characters' });

/** A claim key no expression may write: one idgate sets, or (`refuse`) one the identity sets. */
function claimKey(refuse: (key: string) => string | undefined = () => undefined) {
  return claimName.superRefine((key, ctx) => {
    const problem = RESERVED_CLAIMS.has(key) ? `"${key}" is set by idgate itself and cannot be changed by an expression` : refuse(key);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

function uniqueKeys(claims: Array<{ key: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  claims.forEach((claim, index) => {
    if (seen.has(claim.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `duplicate claim "${claim.key}"` });
    seen.add(claim.key);
  });
}

const connectorExtra = z
  .array(
    z.strictObject({
      key: claimKey((key) => {
        const field = IDENTITY_CLAIMS[key];
        if (field === undefined) return undefined;
        return field ? `"${key}" is the identity's own claim: map it with claimMappings.${field}` : `"${key}" is set by idgate itself (the federated:id scope)`;
      }),
      valueExpression: expressionSchema('claims', RESULT_TYPES.json),
    }),
  )
  .superRefine(uniqueKeys);

/** The keys a connector entry takes beside type, id, name and config. */
export const CONNECTOR_CLAIM_KEYS = {
  claimMappings: z
    .strictObject({
      username: mappingSchema(RESULT_TYPES.string),
      uid: mappingSchema(RESULT_TYPES.string),
      preferredUsername: mappingSchema(RESULT_TYPES.string),
      email: mappingSchema(RESULT_TYPES.string),
      emailVerified: mappingSchema(RESULT_TYPES.bool),
      groups: mappingSchema(RESULT_TYPES.groups),
      extra: connectorExtra.optional(),
    })
    .optional(),
  claimValidationRules: rulesSchema('claims', 'claimValidationRules'),
  userValidationRules: rulesSchema('user', 'userValidationRules'),
};

/** The tokens a client's extra claim goes into. */
export const TOKEN_KINDS = ['id_token', 'access_token'] as const;

/** The keys a static client takes for its tokens' claims. */
export const CLIENT_CLAIM_KEYS = {
  claims: z
    .array(
      z.strictObject({
        key: claimKey(),
        valueExpression: expressionSchema('token', RESULT_TYPES.json),
        tokens: z.array(z.enum(TOKEN_KINDS)).min(1, { message: 'must name at least one token' }).optional(),
      }),
    )
    .superRefine(uniqueKeys)
    .optional(),
  userValidationRules: rulesSchema('token', 'userValidationRules'),
};

type ConnectorClaimKeys = { [K in keyof typeof CONNECTOR_CLAIM_KEYS]: z.output<(typeof CONNECTOR_CLAIM_KEYS)[K]> };
type ClientClaimKeys = { [K in keyof typeof CLIENT_CLAIM_KEYS]: z.output<(typeof CLIENT_CLAIM_KEYS)[K]> };

/** What a connector's keys compiled to, all in one. */
export interface ConnectorClaimRules {
  mappings: {
    username?: CompiledExpression;
    uid?: CompiledExpression;
    preferredUsername?: CompiledExpression;
    email?: CompiledExpression;
    emailVerified?: CompiledExpression;
    groups?: CompiledExpression;
    extra: CompiledExtraClaim[];
  };
  claimValidationRules: CompiledRule[];
  userValidationRules: CompiledRule[];
  /** The top-level claims the expressions read; undefined when one reads `claims` whole. */
  claimNames?: ReadonlySet<string>;
}

/** What a client's keys compiled to. */
export interface ClientClaimRules {
  claims: Array<CompiledExtraClaim & { tokens: ReadonlyArray<(typeof TOKEN_KINDS)[number]> }>;
  userValidationRules: CompiledRule[];
}

/** A parsed connector entry's claim keys, as one set of rules; undefined when it has none. */
export function connectorClaimRules(entry: Partial<ConnectorClaimKeys>): ConnectorClaimRules | undefined {
  const { claimMappings, claimValidationRules = [], userValidationRules = [] } = entry;
  if (!claimMappings && claimValidationRules.length === 0 && userValidationRules.length === 0) return undefined;
  const { extra = [], ...fields } = claimMappings ?? {};
  const mappings = { ...fields, extra: extra.map((claim) => ({ key: claim.key, expression: claim.valueExpression })) };
  const expressions = [...Object.values(fields), ...mappings.extra.map((claim) => claim.expression), ...claimValidationRules.map((rule) => rule.expression)];
  let claimNames: Set<string> | undefined = new Set();
  for (const expression of expressions) {
    if (!expression) continue;
    if (!expression.claimNames) claimNames = undefined;
    else for (const name of expression.claimNames) claimNames?.add(name);
    if (!claimNames) break;
  }
  return { mappings, claimValidationRules, userValidationRules, ...(claimNames ? { claimNames } : {}) };
}

/** A parsed static client's claim keys, as one set of rules; undefined when it has none. */
export function clientClaimRules(entry: Partial<ClientClaimKeys>): ClientClaimRules | undefined {
  const { claims = [], userValidationRules = [] } = entry;
  if (claims.length === 0 && userValidationRules.length === 0) return undefined;
  return {
    claims: claims.map((claim) => ({ key: claim.key, expression: claim.valueExpression, tokens: claim.tokens ?? TOKEN_KINDS })),
    userValidationRules,
  };
}
