/**
 * The static cost of a CEL expression: the most work one evaluation can do, estimated from its AST
 * when the config loads, as Kubernetes' estimator does (neither JavaScript CEL library meters
 * evaluation). Every node costs 1; work over strings costs a tenth per character, copying lists a
 * tenth per entry, comparing or searching them one per entry; a comprehension (all, exists, exists_one, filter, map) costs its body once per
 * element of its range; `matches` costs its pattern's backtracking bound (regex.ts). The sizes come
 * from the input caps (values.ts): any value read from `claims`, `user` or `scopes` is taken to be
 * as large as a cap allows, and sizes flow through the expression (a filter is no longer than its
 * range, a concatenation as long as both sides).
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { matchSteps, screenPattern } from './regex.js';
import { INPUT_LIMITS } from './values.js';

/** How large a value can be: its longest string, most entries, values and characters in all, and its entries' shape. */
export interface Shape {
  chars: number;
  items: number;
  total: number;
  volume: number;
  element?: Shape;
}

interface Estimate {
  cost: number;
  shape: Shape;
}

/** Refused at load: the reason, and where in the expression. */
export class CostError extends Error {
  constructor(
    message: string,
    readonly node: ASTNode,
  ) {
    super(message);
    this.name = 'CostError';
  }
}

const SCALAR: Shape = { chars: 0, items: 0, total: 1, volume: 0 };
const BOOL: Shape = SCALAR;

/** A value read from the input: as large as the caps allow, at every level. */
export const INPUT_SHAPE: Shape = {
  chars: INPUT_LIMITS.maxStringLength, items: INPUT_LIMITS.maxItems, total: INPUT_LIMITS.maxValues, volume: INPUT_LIMITS.maxChars,
};
INPUT_SHAPE.element = INPUT_SHAPE;

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'filter', 'map']);
/** Functions that walk their receiver's characters once. */
const STRING_WALKS = new Set(['lowerAscii', 'upperAscii', 'trim', 'substring', 'size', 'string', 'bytes', 'int', 'uint', 'double', 'bool', 'timestamp', 'duration', 'base64', 'hex', 'json']);

/** One character of string work, or copying one list entry: a tenth of a node. */
const perChar = (chars: number) => chars / 10;
const perItem = perChar;

function join(a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (!a || a === b) return b ?? a;
  if (!b) return a;
  const element = join(a.element, b.element);
  return {
    chars: Math.max(a.chars, b.chars), items: Math.max(a.items, b.items), total: Math.max(a.total, b.total), volume: Math.max(a.volume, b.volume),
    ...(element ? { element } : {}),
  };
}

function text(chars: number): Shape {
  return { chars, items: 0, total: 1, volume: chars };
}

/** Walking a whole value (equality, conversion): every value and every character in it. */
function walk(shape: Shape): number {
  return shape.total + perChar(shape.volume);
}

export function estimateCost(ast: ASTNode, variables: ReadonlyMap<string, Shape>): number {
  return Math.ceil(estimate(ast, variables).cost);
}

function estimate(node: ASTNode, scope: ReadonlyMap<string, Shape>): Estimate {
  switch (node.op) {
    case 'value':
      return { cost: 1, shape: typeof node.args === 'string' ? text(node.args.length) : SCALAR };
    case 'id':
      return { cost: 1, shape: scope.get(node.args) ?? INPUT_SHAPE };
    case '.':
    case '.?': {
      const object = estimate(node.args[0], scope);
      return { cost: object.cost + 1, shape: object.shape.element ?? INPUT_SHAPE };
    }
    case '[]':
    case '[?]': {
      const [object, key] = node.args.map((arg) => estimate(arg, scope)) as [Estimate, Estimate];
      return { cost: object.cost + key.cost + 1 + perChar(key.shape.chars), shape: object.shape.element ?? INPUT_SHAPE };
    }
    case 'list':
    case 'map': {
      const parts = node.op === 'list' ? node.args.map((item) => estimate(item, scope)) : node.args.flat().map((item) => estimate(item, scope));
      const element = parts.reduce<Shape | undefined>((shape, part) => join(shape, part.shape), undefined);
      const items = node.op === 'list' ? parts.length : parts.length / 2;
      const total = 1 + parts.reduce((count, part) => count + part.shape.total, 0);
      const volume = parts.reduce((count, part) => count + part.shape.volume, 0);
      return { cost: 1 + items + sum(parts), shape: { chars: 0, items, total, volume, ...(element ? { element } : {}) } };
    }
    case '?:': {
      const [condition, then, otherwise] = node.args.map((arg) => estimate(arg, scope)) as [Estimate, Estimate, Estimate];
      return { cost: condition.cost + Math.max(then.cost, otherwise.cost), shape: join(then.shape, otherwise.shape)! };
    }
    case '||':
    case '&&':
    case '!_':
    case '-_': {
      const operands = (Array.isArray(node.args) ? node.args : [node.args]).map((arg) => estimate(arg as ASTNode, scope));
      return { cost: 1 + sum(operands), shape: BOOL };
    }
    case 'call':
      return call(node, node.args[0], undefined, node.args[1], scope);
    case 'rcall':
      return call(node, node.args[0], node.args[1], node.args[2], scope);
    default:
      return operator(node.op, node.args as [ASTNode, ASTNode], scope);
  }
}

function sum(parts: Estimate[]): number {
  return parts.reduce((total, part) => total + part.cost, 0);
}

function operator(op: string, args: [ASTNode, ASTNode], scope: ReadonlyMap<string, Shape>): Estimate {
  const [left, right] = args.map((arg) => estimate(arg, scope)) as [Estimate, Estimate];
  const base = 1 + left.cost + right.cost;
  switch (op) {
    case '+': {
      const element = join(left.shape.element, right.shape.element);
      const shape: Shape = {
        chars: left.shape.chars + right.shape.chars,
        items: left.shape.items + right.shape.items,
        total: left.shape.total + right.shape.total,
        volume: left.shape.volume + right.shape.volume,
        ...(element ? { element } : {}),
      };
      // Strings or lists (or numbers), never both: the larger of the two works.
      return { cost: base + Math.max(perChar(shape.chars), perItem(shape.items)), shape };
    }
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return { cost: base + Math.min(walk(left.shape), walk(right.shape)), shape: BOOL };
    case 'in':
      // x in list compares x with each entry; x in map is a lookup.
      return { cost: base + right.shape.items * (1 + walk(left.shape)), shape: BOOL };
    default:
      return { cost: base, shape: SCALAR };
  }
}

function call(node: ASTNode, name: string, receiver: ASTNode | undefined, args: ASTNode[], scope: ReadonlyMap<string, Shape>): Estimate {
  if (receiver && COMPREHENSIONS.has(name) && args[0]?.op === 'id') return comprehension(name, receiver, args, scope);
  if (receiver?.op === 'id' && receiver.args === 'cel' && name === 'bind' && args[0]?.op === 'id' && args.length === 3) {
    const value = estimate(args[1]!, scope);
    const body = estimate(args[2]!, new Map(scope).set(args[0].args, value.shape));
    return { cost: 1 + value.cost + body.cost, shape: body.shape };
  }
  if (!receiver && name === 'has') return { cost: 1 + estimate(args[0]!, scope).cost, shape: BOOL };
  const target = receiver ? estimate(receiver, scope) : undefined;
  const parts = args.map((arg) => estimate(arg, scope));
  const subject = target?.shape ?? parts[0]?.shape ?? SCALAR;
  const cost = 1 + (target?.cost ?? 0) + sum(parts);
  const argument = (receiver ? parts[0] : parts[1])?.shape ?? SCALAR;
  switch (name) {
    case 'startsWith':
    case 'endsWith':
      return { cost: cost + perChar(argument.chars), shape: BOOL };
    case 'contains':
    case 'indexOf':
    case 'lastIndexOf':
      return { cost: cost + perChar(subject.chars * Math.max(1, argument.chars)), shape: SCALAR };
    case 'matches':
      return { cost: cost + perChar(matchCost(node, receiver ? args[0] : args[1], subject.chars)), shape: BOOL };
    case 'split':
      return {
        cost: cost + perChar(subject.chars),
        shape: { chars: 0, items: subject.chars + 1, total: subject.chars + 2, volume: subject.chars, element: text(subject.chars) },
      };
    case 'join': {
      const chars = subject.items * ((subject.element?.chars ?? 0) + argument.chars);
      return { cost: cost + perChar(chars), shape: text(chars) };
    }
    case 'size':
      return { cost, shape: SCALAR };
    default:
      if (STRING_WALKS.has(name)) return { cost: cost + perChar(subject.chars), shape: text(Math.max(subject.chars, 32)) };
      // Anything else (dyn, type, getters on timestamps): charged for walking its arguments.
      return { cost: cost + walk(subject), shape: subject };
  }
}

/** A comprehension's range once, its body once per element, with the iteration variable as large as an element. */
function comprehension(name: string, receiver: ASTNode, args: ASTNode[], scope: ReadonlyMap<string, Shape>): Estimate {
  const range = estimate(receiver, scope);
  const variable = (args[0] as ASTNode & { op: 'id' }).args;
  const inner = new Map(scope).set(variable, range.shape.element ?? INPUT_SHAPE);
  const steps = args.slice(1).map((arg) => estimate(arg, inner));
  const cost = 1 + range.cost + range.shape.items * (2 + sum(steps));
  if (name === 'filter') return { cost, shape: range.shape };
  if (name === 'map') {
    const element = steps[steps.length - 1]!.shape;
    return {
      cost,
      shape: { chars: 0, items: range.shape.items, total: 1 + range.shape.items * element.total, volume: range.shape.items * element.volume, element },
    };
  }
  return { cost, shape: BOOL };
}

/** `matches` takes only a literal pattern, screened for what backtracks without bound. */
function matchCost(node: ASTNode, pattern: ASTNode | undefined, subjectChars: number): number {
  if (pattern?.op !== 'value' || typeof pattern.args !== 'string') {
    throw new CostError('matches needs its pattern written as a string literal, so it can be checked when the config loads', node);
  }
  const bound = screenPattern(pattern.args);
  if (typeof bound === 'string') throw new CostError(`the pattern ${JSON.stringify(pattern.args)} ${bound}`, pattern);
  return matchSteps(bound, subjectChars);
}
