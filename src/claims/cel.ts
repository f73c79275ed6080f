/**
 * CEL for idgate's claim expressions, on @marcbachmann/cel-js (chosen by bench/cel.ts: it type-checks,
 * and evaluates 2-20x faster than @bufbuild/cel, whose checker is not public). An expression is
 * parsed, type-checked against its variables, held to the result type its key needs and to the cost
 * limit, all once when the config loads; evaluating it is then a call. Three environments:
 * `claims` (what the connector read), `user` (the identity) and `user` + `scopes` (a client's tokens).
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { CostError, estimateCost, INPUT_SHAPE, type Shape } from './cost.js';

export type ExpressionEnvironment = 'claims' | 'user' | 'token';

/** The most an expression may cost per evaluation (cost.ts units: about one AST node each). */
export const COST_LIMIT = 1_000_000;

/** The fields of `user`: the identity as Kubernetes' user validation rules see it, and what idgate adds. */
export const USER_FIELDS = {
  uid: 'string',
  username: 'string',
  preferredUsername: 'string',
  email: 'string',
  emailVerified: 'bool',
  groups: 'list<string>',
  extra: 'map<string, dyn>',
  connectorID: 'string',
} as const;

const PARSE_LIMITS = { maxAstNodes: 2000, maxDepth: 32, maxListElements: 500, maxMapEntries: 100, maxCallArguments: 8 };

const VARIABLES: Record<ExpressionEnvironment, ReadonlyArray<readonly [string, string]>> = {
  claims: [['claims', 'map<string, dyn>']],
  user: [['user', 'idgate.User']],
  token: [['user', 'idgate.User'], ['scopes', 'list<string>']],
};

const environments = new Map<ExpressionEnvironment, Environment>();

/** Built once per kind, on first use (an Environment is costly to make, cheap to reuse). */
function environment(kind: ExpressionEnvironment): Environment {
  let env = environments.get(kind);
  if (!env) {
    env = new Environment({ limits: PARSE_LIMITS });
    if (kind !== 'claims') env.registerType('idgate.User', { fields: { ...USER_FIELDS } });
    for (const [name, type] of VARIABLES[kind]) env.registerVariable(name, type);
    environments.set(kind, env);
  }
  return env;
}

/** What a key needs its expression to produce, by the checked type's name ("dyn" always passes, and is checked when it runs). */
export interface ResultType {
  /** In words, for the message: "a string", "true or false". */
  description: string;
  accepts(type: string): boolean;
}

export const RESULT_TYPES = {
  bool: { description: 'true or false (bool)', accepts: (type: string) => type === 'bool' },
  string: { description: 'a string', accepts: (type: string) => type === 'string' },
  groups: { description: 'a string or a list of strings', accepts: (type: string) => type === 'string' || type === 'list<string>' || type === 'list' },
  json: {
    description: 'a string, number, bool, list or map',
    accepts: (type: string) => !/bytes|timestamp|duration|Timestamp|Duration|^type|optional|idgate\.User/.test(type),
  },
} satisfies Record<string, ResultType>;

export interface CompiledExpression {
  readonly source: string;
  readonly cost: number;
  /** The top-level claims it reads, when it reads `claims` only by name; undefined when it uses `claims` whole. */
  readonly claimNames?: ReadonlySet<string>;
  /** Throws EvaluationError when the expression fails on these values (a missing claim, a bad conversion). */
  evaluate(variables: Record<string, unknown>): unknown;
}

/** A compile refusal: the reason, and the character offset in the expression it points at. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** An evaluation that failed; the message names the CEL error (no such key: nickname). */
export class EvaluationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvaluationError';
  }
}

interface CelError {
  summary?: string;
  message: string;
  range?: { start: number };
}

export function compileExpression(source: string, kind: ExpressionEnvironment, result: ResultType): CompiledExpression {
  const env = environment(kind);
  let program: ReturnType<Environment['parse']>;
  try {
    program = env.parse(source);
  } catch (error) {
    throw new ExpressionError(`syntax error: ${celMessage(error)}`, (error as CelError).range?.start);
  }
  const checked = program.check();
  if (!checked.valid) throw new ExpressionError(`type error: ${celMessage(checked.error)}`, (checked.error as CelError | undefined)?.range?.start);
  if (checked.type !== 'dyn' && !result.accepts(checked.type!)) {
    throw new ExpressionError(`must produce ${result.description}, but produces ${checked.type}`);
  }
  let cost: number;
  try {
    cost = estimateCost(program.ast, new Map<string, Shape>(VARIABLES[kind].map(([name]) => [name, INPUT_SHAPE])));
  } catch (error) {
    if (error instanceof CostError) throw new ExpressionError(error.message, error.node.start);
    throw error;
  }
  if (cost > COST_LIMIT) {
    throw new ExpressionError(`estimated cost ${cost} exceeds the limit of ${COST_LIMIT} (inputs are taken at their caps: see docs/claims.md#cost)`);
  }
  const names = kind === 'claims' ? claimNamesRead(program.ast) : undefined;
  return {
    source,
    cost,
    ...(names ? { claimNames: names } : {}),
    evaluate(variables) {
      try {
        return program(variables);
      } catch (error) {
        throw new EvaluationError(celMessage(error), { cause: error });
      }
    },
  };
}

function celMessage(error: unknown): string {
  const cel = error as CelError | undefined;
  return cel?.summary ?? cel?.message.split('\n')[0] ?? String(error);
}

/** `claims.x`, `claims["x"]` and has(claims.x) name what they read; any other use of `claims` reads it all. */
function claimNamesRead(ast: ASTNode): Set<string> | undefined {
  const names = new Set<string>();
  let whole = false;
  const visit = (node: unknown, parent?: ASTNode): void => {
    if (Array.isArray(node)) return node.forEach((child) => visit(child, parent));
    if (!node || typeof node !== 'object' || !('op' in node)) return;
    const ast = node as ASTNode;
    if (ast.op === 'id' && ast.args === 'claims') {
      const name = parent && (parent.op === '.' || parent.op === '.?') ? parent.args[1]
        : parent?.op === '[]' && parent.args[0] === ast && parent.args[1].op === 'value' && typeof parent.args[1].args === 'string' ? parent.args[1].args
          : undefined;
      if (name === undefined) whole = true;
      else names.add(name);
      return;
    }
    if (ast.op === 'value' || ast.op === 'id') return;
    // A comprehension or cel.bind variable named `claims` would hide the input: then keep every claim.
    if (ast.op === 'rcall' && ast.args[2].some((arg) => arg.op === 'id' && arg.args === 'claims')) whole = true;
    const children: unknown[] = ast.op === 'call' ? ast.args[1] : ast.op === 'rcall' ? [ast.args[1], ast.args[2]] : ast.op === '.' || ast.op === '.?' ? [ast.args[0]] : [ast.args];
    for (const child of children) visit(child, ast);
  };
  visit(ast);
  return whole ? undefined : names;
}
