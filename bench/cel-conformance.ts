// The cel-spec conformance tests (as @bufbuild/cel-spec ships them, JSON-encoded SimpleTest messages) run
// through both CEL candidates: the sections that need no protobuf message types, each test's expected
// value or error compared with what the library produced. Used by bench/cel.ts; prints nothing itself.
import { celEnv, CelScalar, celUint, isCelError, isCelList, isCelMap, isCelType, isCelUint, listType, mapType, parse, plan, type CelType } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { tests } from '@bufbuild/cel-spec/testdata/conformance.js';
import { Environment, type TypeCheckResult } from '@marcbachmann/cel-js';
import { UnsignedInt } from '@marcbachmann/cel-js/evaluator';

/** The sections an idgate claim expression draws on (no protobuf messages, timestamps or optionals). */
export const SECTIONS = [
  'basic', 'comparisons', 'conversions', 'fp_math', 'integer_math', 'lists', 'logic', 'macros', 'macros2', 'string', 'string_ext',
] as const;

/** cel.expr.Value / Type as JSON (only the parts these sections use). */
interface ValueJson {
  nullValue?: unknown; boolValue?: boolean; int64Value?: string; uint64Value?: string; doubleValue?: number | string;
  stringValue?: string; bytesValue?: string; typeValue?: string; objectValue?: unknown; enumValue?: unknown;
  listValue?: { values?: ValueJson[] }; mapValue?: { entries?: Array<{ key: ValueJson; value: ValueJson }> };
}
interface TypeJson {
  primitive?: string; dyn?: unknown; null?: unknown; listType?: { elemType: TypeJson }; mapType?: { keyType: TypeJson; valueType: TypeJson };
  messageType?: string; wellKnown?: string; wrapper?: string; type?: unknown; typeParam?: string; abstractType?: unknown;
}
interface TestJson {
  name?: string; expr: string; container?: string; disableCheck?: boolean; checkOnly?: boolean;
  typeEnv?: Array<{ name: string; ident?: { type: TypeJson } }>;
  bindings?: Record<string, { value?: ValueJson }>;
  value?: ValueJson; typedResult?: { result?: ValueJson }; evalError?: unknown;
}
interface SuiteJson { name: string; suites?: SuiteJson[]; tests?: Array<{ original: TestJson }> }

export interface SectionResult { section: string; total: number; skipped: number; bufbuild: number; celJs: number; celJsChecked: number }

const PROTO_TEXT = /google\.protobuf|TestAllTypes|NestedTestAllTypes|cel\.expr\.conformance|\bproto[23]\./;

/** A test the subset can run: no protobuf messages, no container, an expected value or error. */
function runnable(test: TestJson): boolean {
  if (test.container || test.checkOnly || PROTO_TEXT.test(test.expr)) return false;
  const text = JSON.stringify(test);
  if (text.includes('objectValue') || text.includes('messageType') || text.includes('enumValue') || text.includes('wellKnown') || text.includes('wrapper')) return false;
  return test.value !== undefined || test.typedResult?.result !== undefined || test.evalError !== undefined;
}

// --- expected values, in one canonical text both libraries' results are reduced to ---

function canonNumber(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

function canonExpected(value: ValueJson): string {
  if (value.nullValue !== undefined) return 'null';
  if (value.boolValue !== undefined) return `bool:${value.boolValue}`;
  if (value.int64Value !== undefined) return `int:${BigInt(value.int64Value)}`;
  if (value.uint64Value !== undefined) return `uint:${BigInt(value.uint64Value)}`;
  if (value.doubleValue !== undefined) return `double:${canonNumber(Number(value.doubleValue))}`;
  if (value.stringValue !== undefined) return `string:${JSON.stringify(value.stringValue)}`;
  if (value.bytesValue !== undefined) return `bytes:${Buffer.from(value.bytesValue, 'base64').toString('hex')}`;
  if (value.typeValue !== undefined) return `type:${value.typeValue}`;
  if (value.listValue !== undefined) return `[${(value.listValue.values ?? []).map(canonExpected).join(',')}]`;
  if (value.mapValue !== undefined) {
    return `{${(value.mapValue.entries ?? []).map((entry) => `${canonExpected(entry.key)}=>${canonExpected(entry.value)}`).sort().join(',')}}`;
  }
  // A Value with no field set is the proto3 default: false, 0, "" (the JSON form drops them).
  return 'string:""';
}

/** bool false, int 0 ... arrive as {} in JSON; they are told apart by the test's text, so compare leniently. */
function sameValue(expected: ValueJson, actual: string): boolean {
  const want = canonExpected(expected);
  if (Object.keys(expected).length > 0) return want === actual;
  return ['bool:false', 'int:0', 'uint:0', 'double:0', 'string:""', 'bytes:', 'null'].includes(actual);
}

// --- @marcbachmann/cel-js ---

function celJsType(type: TypeJson): string {
  if (type.primitive) return { BOOL: 'bool', INT64: 'int', UINT64: 'uint', DOUBLE: 'double', STRING: 'string', BYTES: 'bytes' }[type.primitive] ?? 'dyn';
  if (type.listType) return `list<${celJsType(type.listType.elemType)}>`;
  if (type.mapType) return `map<${celJsType(type.mapType.keyType)}, ${celJsType(type.mapType.valueType)}>`;
  if (type.null !== undefined) return 'null_type';
  return 'dyn';
}

function celJsInput(value: ValueJson): unknown {
  if (value.nullValue !== undefined) return null;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.int64Value !== undefined) return BigInt(value.int64Value);
  if (value.uint64Value !== undefined) return new UnsignedInt(BigInt(value.uint64Value));
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.bytesValue !== undefined) return new Uint8Array(Buffer.from(value.bytesValue, 'base64'));
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(celJsInput);
  if (value.mapValue !== undefined) return new Map((value.mapValue.entries ?? []).map((entry) => [celJsInput(entry.key), celJsInput(entry.value)]));
  return false;
}

function canonCelJs(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return `bool:${value}`;
  if (typeof value === 'bigint') return `int:${value}`;
  if (value instanceof UnsignedInt) return `uint:${value.valueOf()}`;
  if (typeof value === 'number') return `double:${canonNumber(value)}`;
  if (typeof value === 'string') return `string:${JSON.stringify(value)}`;
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return `[${value.map(canonCelJs).join(',')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${canonCelJs(k)}=>${canonCelJs(v)}`).sort().join(',')}}`;
  if (typeof value === 'object' && value.constructor === Object) {
    return `{${Object.entries(value).map(([k, v]) => `${canonCelJs(k)}=>${canonCelJs(v)}`).sort().join(',')}}`;
  }
  if (typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string') return `type:${(value as { name: string }).name}`;
  return `?${String(value)}`;
}

/** Evaluates as an idgate expression is: parsed and type-checked first (unless the test disables checking). */
function runCelJs(test: TestJson): { passed: boolean; checkedOk: boolean } {
  const context = Object.fromEntries(Object.entries(test.bindings ?? {}).map(([name, bound]) => [name, celJsInput(bound.value ?? {})]));
  let checked: TypeCheckResult | undefined;
  try {
    const env = new Environment({ homogeneousAggregateLiterals: false });
    for (const decl of test.typeEnv ?? []) if (decl.ident) env.registerVariable(decl.name, celJsType(decl.ident.type));
    const program = env.parse(test.expr);
    if (!test.disableCheck) checked = program.check();
    const result = program(context);
    if (test.evalError !== undefined) return { passed: false, checkedOk: false };
    const expected = test.value ?? test.typedResult!.result!;
    const passed = sameValue(expected, canonCelJs(result));
    return { passed, checkedOk: passed && (checked === undefined || checked.valid) };
  } catch {
    const passed = test.evalError !== undefined;
    return { passed, checkedOk: passed };
  }
}

// --- @bufbuild/cel ---

function bufbuildType(type: TypeJson): CelType {
  if (type.primitive) {
    const scalar = { BOOL: CelScalar.BOOL, INT64: CelScalar.INT, UINT64: CelScalar.UINT, DOUBLE: CelScalar.DOUBLE, STRING: CelScalar.STRING, BYTES: CelScalar.BYTES }[type.primitive];
    return scalar ?? CelScalar.DYN;
  }
  if (type.listType) return listType(bufbuildType(type.listType.elemType));
  if (type.mapType) return mapType(bufbuildType(type.mapType.keyType) as typeof CelScalar.STRING, bufbuildType(type.mapType.valueType));
  if (type.null !== undefined) return CelScalar.NULL;
  return CelScalar.DYN;
}

function bufbuildInput(value: ValueJson): unknown {
  if (value.uint64Value !== undefined) return celUint(BigInt(value.uint64Value));
  if (value.listValue !== undefined) return (value.listValue.values ?? []).map(bufbuildInput);
  if (value.mapValue !== undefined) return new Map((value.mapValue.entries ?? []).map((entry) => [bufbuildInput(entry.key), bufbuildInput(entry.value)]));
  return celJsInput(value);
}

function canonBufbuild(value: unknown): string {
  if (isCelUint(value)) return `uint:${value.value}`;
  if (isCelList(value)) return `[${[...value].map(canonBufbuild).join(',')}]`;
  if (isCelMap(value)) return `{${[...value].map(([k, v]) => `${canonBufbuild(k)}=>${canonBufbuild(v)}`).sort().join(',')}}`;
  if (isCelType(value)) return `type:${value.name}`;
  return canonCelJs(value);
}

/** Parsed and planned (the library's checker is not part of its public API, so nothing is type-checked). */
function runBufbuild(test: TestJson): boolean {
  try {
    const variables = Object.fromEntries((test.typeEnv ?? []).filter((decl) => decl.ident).map((decl) => [decl.name, bufbuildType(decl.ident!.type)]));
    const env = celEnv({ variables, funcs: strings });
    const bindings = Object.fromEntries(Object.entries(test.bindings ?? {}).map(([name, bound]) => [name, bufbuildInput(bound.value ?? {})]));
    const result = (plan(env, parse(test.expr)) as (ctx: Record<string, unknown>) => unknown)(bindings);
    if (isCelError(result)) return test.evalError !== undefined;
    if (test.evalError !== undefined) return false;
    return sameValue(test.value ?? test.typedResult!.result!, canonBufbuild(result));
  } catch {
    return test.evalError !== undefined;
  }
}

function* testsOf(suite: SuiteJson): Generator<TestJson> {
  for (const test of suite.tests ?? []) yield test.original;
  for (const child of suite.suites ?? []) yield* testsOf(child);
}

export function runConformance(): SectionResult[] {
  const root = tests as unknown as SuiteJson;
  return SECTIONS.map((section) => {
    const suite = root.suites?.find((candidate) => candidate.name === section);
    const result: SectionResult = { section, total: 0, skipped: 0, bufbuild: 0, celJs: 0, celJsChecked: 0 };
    for (const test of suite ? testsOf(suite) : []) {
      result.total++;
      if (!runnable(test)) {
        result.skipped++;
        continue;
      }
      if (runBufbuild(test)) result.bufbuild++;
      const celJs = runCelJs(test);
      if (celJs.passed) result.celJs++;
      if (celJs.checkedOk) result.celJsChecked++;
    }
    return result;
  });
}
