/**
 * The hand-written CheckRequest decoder gives what proto-loader's deserialize (protobufjs decode +
 * toObject) gives for every field CheckRequestMessage declares, and so the same CheckInput, for every
 * shape of request Envoy sends; it follows protobuf's rules where protobufjs does not (a split message
 * is merged, a map entry without its value gets the default), refuses what protobufjs reads past
 * (groups, field 0, a wrong wire type, a string past its message's end, over-long varints, deep Structs),
 * and never hangs or crashes on mutated bytes. Over gRPC, a malformed request fails with INTERNAL and
 * the server goes on serving.
 */
import { Client, credentials, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchCheckRequest } from '../../bench/filter/setup.js';
import { decodeCheckRequest, MAX_STRUCT_DEPTH, ProtobufDecodeError, type ProtobufDecodeErrorCode } from '../../src/authz/transport/check-request-decoding.js';
import { checkInputFromGrpc, type CheckRequestMessage } from '../../src/authz/transport/grpc-messages.js';
import { loadAuthorizationProto } from '../../src/authz/transport/proto.js';
import { covers, declaredFields, payloadOf, prunedDecode, wire } from './helpers/check-request-wire.js';
import { startFilterFixture, type FilterFixture } from './helpers/filter-fixture.js';
import { ExtAuthzClient, checkRequest, outcomeOf } from './helpers/grpc-client.js';

const check = loadAuthorizationProto().service.Check as MethodDefinition<CheckRequestMessage, unknown>;
const encode = (message: unknown) => Buffer.from(check.requestSerialize(message as CheckRequestMessage));
const protoLoaderDecode = (bytes: Buffer) => check.requestDeserialize(bytes);
const OPTIONS = { numTrustedProxies: 1 };
const inputOf = (message: CheckRequestMessage) => checkInputFromGrpc(message, OPTIONS);

type Outcome = { value: CheckRequestMessage; error?: undefined } | { value?: undefined; error: Error };
function attempt(decode: (bytes: Buffer) => unknown, bytes: Buffer): Outcome {
  try {
    return { value: decode(bytes) as CheckRequestMessage };
  } catch (error) {
    return { error: error as Error };
  }
}

function codeOf(fn: () => unknown): ProtobufDecodeErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (error) {
    if (!(error instanceof ProtobufDecodeError)) throw error;
    return error.code;
  }
}

/** The decoders agree: the same declared fields (ours has no others), the same CheckInput. */
function expectSameAsProtoLoader(bytes: Buffer): CheckRequestMessage {
  const ours = decodeCheckRequest(bytes);
  const theirs = protoLoaderDecode(bytes);
  expect(ours).toStrictEqual(declaredFields(theirs));
  expect(inputOf(ours)).toStrictEqual(inputOf(theirs));
  return ours;
}

const token = `eyJhbGciOiJSUzI1NiIsImtpZCI6IlJTMjU2LTEifQ.${'eyJzdWIiOiJ1c2VyLTEifQ'.repeat(20)}.${'s'.repeat(342)}`;
const struct = (fields: Record<string, unknown>) => ({ fields });
const metadata = {
  filter_metadata: {
    'envoy.filters.http.jwt_authn': struct({
      payload: { structValue: struct({ sub: { stringValue: 'alice' }, iat: { numberValue: 1700000000 }, admin: { boolValue: true }, none: { nullValue: 0 }, frac: { numberValue: -0.5 }, huge: { numberValue: 1e308 }, nan: { numberValue: NaN }, inf: { numberValue: -Infinity } }) },
      groups: { listValue: { values: [{ stringValue: 'staff' }, { numberValue: 3 }, { boolValue: false }, { nullValue: 0 }, { listValue: { values: [] } }, { structValue: struct({ deep: { listValue: { values: [{ stringValue: 'x' }] } } }) }] } },
      empty: { structValue: struct({}) },
      noKind: {},
    }),
    'istio_authn': struct({}),
  },
};
const manyHeaders = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-header-${i}-${'n'.repeat(i % 80)}`, `value-${i}`]));

const corpus: Array<[string, unknown]> = [
  ['the bench request', benchCheckRequest(token, '/svc4/items/7?page=2')],
  ['an empty CheckRequest', {}],
  ['empty attributes', { attributes: {} }],
  ['fields present with empty values', { attributes: { source: { address: { socket_address: { address: '', port_value: 0 } }, principal: '', labels: {} }, request: { http: { id: '', method: '', path: '', host: '', scheme: '', headers: {} } }, tls_session: { sni: '' }, context_extensions: {}, metadata_context: {} } }],
  ['header_map with raw values and repeated keys', { attributes: { request: { http: { method: 'POST', path: '/p', header_map: { headers: [
    { key: ':path', raw_value: Buffer.from('/raw') }, { key: 'X-Dup', raw_value: Buffer.from('one') }, { key: 'x-dup', value: 'two' },
    { key: 'x-both', value: 'text', raw_value: Buffer.from('raw') }, { key: 'x-empty-raw', value: 'v', raw_value: Buffer.alloc(0) },
    { key: 'x-bad-utf8', raw_value: Buffer.from([0xff, 0xfe, 0x41, 0xc3]) }, { key: '', value: 'no key' }, { value: 'absent key' },
  ] }, headers: { 'x-dup': 'zero' } } } } }],
  ['metadata with nested structs, lists, nulls, numbers and bools', { attributes: { metadata_context: metadata, route_metadata_context: { filter_metadata: { route: struct({ tier: { stringValue: 'gold' } }) } } } }],
  ['peers with labels, principals, certificates and SNI', { attributes: {
    source: { address: { socket_address: { address: '2001:db8::1', port_value: 65535 } }, principal: 'spiffe://cluster.local/ns/a/sa/b', certificate: `-----BEGIN%20CERTIFICATE-----%0A${'MIIB'.repeat(300)}%0A`, labels: { app: 'web', version: 'v1' } },
    destination: { address: { socket_address: { address: '10.0.0.1', port_value: 4294967295 } }, principal: 'spiffe://cluster.local/ns/c/sa/d', labels: { 'app.kubernetes.io/name': 'api', '': 'empty key' } },
    tls_session: { sni: 'api.example.com' },
    context_extensions: { namespace: 'shop', labels: 'app=api', __proto__: 'own key', constructor: 'c', '0': 'zero', '10': 'ten' },
  } }],
  ['unicode, long and many values', { attributes: { request: { http: { method: 'GET', path: '/zoë/✓/😀?q=%E2%9C%93', host: 'ünïcode.example', headers: { ...manyHeaders, 'x-name': 'Zoë ✓ 😀', 'x-lone-surrogate': 'a\ud800b', 'x-huge': 'h'.repeat(40_000), 'x-ünï': 'name not ASCII' } } } } }],
  ['fields CheckRequestMessage does not declare', { attributes: {
    source: { address: { socket_address: { protocol: 1, address: '10.1.1.1', named_port: 'http', resolver_name: 'r', ipv4_compat: true } }, service: 'frontend' },
    destination: { address: { pipe: { path: '/var/run/envoy.sock', mode: 0o600 } }, service: 'backend' },
    request: { time: { seconds: 1_700_000_000, nanos: 5 }, http: { id: 'i', method: 'PUT', path: '/u', query: 'a=1', fragment: 'f', size: 9_007_199_254_740_991, protocol: 'HTTP/2', body: 'payload', raw_body: Buffer.from([0, 1, 2, 255]) } },
    metadata_context: { filter_metadata: { a: struct({ k: { stringValue: 'v' } }) }, typed_filter_metadata: { t: { type_url: 'type.googleapis.com/google.protobuf.Struct', value: Buffer.from([0x0a, 0x00]) } } },
  } }],
];

describe('CheckRequest decoding: the corpus, encoded by proto-loader', () => {
  it.each(corpus)('%s: the same fields and CheckInput as proto-loader', (_name, message) => {
    const bytes = encode(message);
    expectSameAsProtoLoader(bytes);
    expect(decodeCheckRequest(bytes)).toStrictEqual(declaredFields(prunedDecode(bytes)));
  });

  it('gives the same strings when header names repeat from message to message (they are looked up by their bytes)', () => {
    for (let round = 0; round < 3; round++) for (const [, message] of corpus) expectSameAsProtoLoader(encode(message));
  });

  it('tells apart names that differ in any one byte, however they are looked up', () => {
    const base = 'x-header-name-zz';
    const names = [base, ...Array.from(base, (_, i) => `${base.slice(0, i)}#${base.slice(i + 1)}`)];
    const bytes = encode({ attributes: { request: { http: { headers: Object.fromEntries(names.map((n, i) => [n, `v${i}`])) } } } });
    for (let round = 0; round < 2; round++) expect(Object.keys(expectSameAsProtoLoader(bytes).attributes?.request?.http?.headers ?? {})).toEqual(names);
    const alone = names.map((n) => encode({ attributes: { context_extensions: { [n]: 'v' } } }));
    for (let round = 0; round < 2; round++) for (const b of alone) expectSameAsProtoLoader(b);
  });

  it('reads invalid UTF-8 in a string field as Buffer#toString does', () => {
    const bytes = encode({ attributes: { request: { http: { path: '/MARK', headers: { 'x-MARK': 'MARKMARK' } } } } });
    for (let at = bytes.indexOf('MARK'); at !== -1; at = bytes.indexOf('MARK', at + 1)) bytes.set([0xff, 0xc3, 0x28, 0xe2], at);
    const decoded = expectSameAsProtoLoader(bytes);
    expect(decoded.attributes?.request?.http?.path).toBe('/\ufffd\ufffd(\ufffd');
  });
});

// Hand-built messages: CheckRequest { attributes { ...fields } }.
const request = (...attributes: Buffer[]) => wire.len(1, ...attributes);
const http = (...fields: Buffer[]) => wire.len(4, wire.len(2, ...fields));
/** filter_metadata { f: Struct } with `depth` Structs in all, or Structs holding ListValues `lists` deep. */
function nested(depth: number, via: 'struct_value' | 'list_value' = 'struct_value'): Buffer {
  let value = wire.str(3, 'leaf');
  for (let level = 1; level < depth; level++) value = via === 'struct_value' ? wire.len(5, wire.len(1, wire.str(1, 'k'), wire.len(2, value))) : wire.len(6, wire.len(1, value));
  return request(wire.len(11, wire.len(1, wire.str(1, 'f'), wire.len(2, wire.len(1, wire.str(1, 'k'), wire.len(2, value))))));
}

describe('CheckRequest decoding: protobuf rules', () => {
  it('keeps the last value of a field seen twice', () => {
    const decoded = expectSameAsProtoLoader(request(wire.len(12, wire.str(1, 'first'), wire.str(1, 'last')), http(wire.str(4, '/a'), wire.str(4, '/b'))));
    expect([decoded.attributes?.tls_session?.sni, decoded.attributes?.request?.http?.path]).toEqual(['last', '/b']);
  });

  it('merges a message field seen twice, where protobufjs keeps only the second', () => {
    const bytes = request(wire.len(1, wire.str(4, 'spiffe://a')), wire.len(1, wire.str(5, 'cert'), wire.len(3, wire.str(1, 'app'), wire.str(2, 'web'))), http(wire.str(2, 'GET')), http(wire.str(4, '/x')));
    expect(decodeCheckRequest(bytes).attributes).toStrictEqual({ source: { principal: 'spiffe://a', certificate: 'cert', labels: { app: 'web' } }, request: { http: { method: 'GET', path: '/x' } } });
    expect(declaredFields(protoLoaderDecode(bytes)).attributes).toStrictEqual({ source: { certificate: 'cert', labels: { app: 'web' } }, request: { http: { path: '/x' } } });
  });

  it('replaces the value of a repeated map key, keeping its first position', () => {
    const decoded = expectSameAsProtoLoader(request(http(wire.entry(3, 'a', '1'), wire.entry(3, 'b', '2'), wire.entry(3, 'a', '3'))));
    expect(Object.entries(decoded.attributes?.request?.http?.headers ?? {})).toEqual([['a', '3'], ['b', '2']]);
  });

  it('gives a map entry without its key or value the type’s default; protobufjs throws for a missing Struct or Value', () => {
    const strings = expectSameAsProtoLoader(request(wire.len(1, wire.entry(3, 'k', undefined)), wire.entry(10, undefined, 'v')));
    expect([strings.attributes?.source?.labels, strings.attributes?.context_extensions]).toEqual([{ k: '' }, { '': 'v' }]);
    const noStruct = request(wire.len(11, wire.entry(1, 'f', undefined)));
    const noValue = request(wire.len(11, wire.entry(1, 'f', wire.entry(1, 'k', undefined))));
    expect(decodeCheckRequest(noStruct).attributes?.metadata_context).toStrictEqual({ filter_metadata: { f: {} } });
    expect(inputOf(decodeCheckRequest(noValue)).filterMetadata).toStrictEqual({ f: { k: null } });
    for (const bytes of [noStruct, noValue]) expect(() => protoLoaderDecode(bytes)).toThrow(TypeError);
  });

  it('skips unknown fields of every wire type, at every level', () => {
    const unknown = Buffer.concat([wire.uint(99, -1), wire.double(98, 1.5), wire.str(97, 'skipped'), wire.fixed32(96, 7), wire.len(95, wire.uint(1, 1))]);
    const bytes = Buffer.concat([unknown, wire.len(1, unknown,
      wire.len(1, unknown, wire.len(1, unknown, wire.len(1, unknown, wire.str(2, '10.0.0.1'), unknown)), wire.len(3, unknown, wire.str(1, 'k'), unknown, wire.str(2, 'v'))),
      wire.len(4, unknown, wire.len(2, unknown, wire.str(2, 'GET'), wire.len(13, unknown, wire.len(1, unknown, wire.str(1, 'h'), unknown, wire.str(3, 'raw'))))),
      wire.len(11, unknown, wire.len(1, unknown, wire.str(1, 'f'), wire.len(2, unknown, wire.len(1, wire.str(1, 'k'), wire.len(2, unknown, wire.str(3, 'v'), unknown))))),
    ), unknown]);
    expect(expectSameAsProtoLoader(bytes).attributes).toStrictEqual({
      source: { address: { socket_address: { address: '10.0.0.1' } }, labels: { k: 'v' } },
      request: { http: { method: 'GET', header_map: { headers: [{ key: 'h', raw_value: Buffer.from('raw') }] } } },
      metadata_context: { filter_metadata: { f: { fields: { k: { stringValue: 'v' } } } } },
    });
  });

  it('reads a negative int32 sign-extended to ten bytes', () => {
    const decoded = expectSameAsProtoLoader(request(wire.len(11, wire.entry(1, 'f', wire.entry(1, 'k', wire.uint(1, -1))))));
    expect(decoded.attributes?.metadata_context?.filter_metadata?.f?.fields?.k).toEqual({ nullValue: -1 });
  });
});

describe('CheckRequest decoding: malformed bytes', () => {
  it('refuses groups and field number 0 (protobufjs skips them) and wire types 6 and 7', () => {
    const group = request(wire.tag(50, 3), wire.uint(1, 1), wire.tag(50, 4));
    const fieldZero = request(wire.uint(0, 1));
    expect([codeOf(() => decodeCheckRequest(group)), codeOf(() => decodeCheckRequest(request(wire.tag(50, 4))))]).toEqual(['group', 'group']);
    expect(codeOf(() => decodeCheckRequest(fieldZero))).toBe('field_number');
    for (const bytes of [group, fieldZero]) expect(protoLoaderDecode(bytes)).toEqual({ attributes: {} });
    for (const wireType of [6, 7]) {
      const bytes = request(wire.tag(50, wireType), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
      expect(codeOf(() => decodeCheckRequest(bytes))).toBe('wire_type');
      expect(() => protoLoaderDecode(bytes)).toThrow(/invalid wire type/);
    }
  });

  it('refuses a field it reads arriving with another wire type (protobufjs reads it as if it had the right one)', () => {
    const bytes = request(wire.len(12, wire.uint(1, 3), Buffer.from('abc')));
    expect(codeOf(() => decodeCheckRequest(bytes))).toBe('wire_type');
    expect(protoLoaderDecode(bytes).attributes?.tls_session).toEqual({ sni: 'abc' });
  });

  it('refuses a length past the end of its message (protobufjs cuts such a string short)', () => {
    const sni = Buffer.concat([wire.tag(1, 2), wire.varint(9), Buffer.from('abc')]);
    const shortString = request(wire.len(12, sni));
    expect(codeOf(() => decodeCheckRequest(shortString))).toBe('truncated');
    expect(protoLoaderDecode(shortString).attributes?.tls_session).toEqual({ sni: 'abc' });
    for (const bytes of [request(Buffer.concat([wire.tag(12, 2), wire.varint(50), sni])), Buffer.concat([wire.tag(1, 2), wire.varint(10), wire.len(12)])]) {
      expect(codeOf(() => decodeCheckRequest(bytes))).toBe('truncated');
      expect(() => protoLoaderDecode(bytes)).toThrow(RangeError);
    }
  });

  it('refuses a varint over ten bytes, and a 32-bit one of six to nine', () => {
    const eleven = Buffer.from([...Array<number>(10).fill(0x80), 0x01]);
    expect(codeOf(() => decodeCheckRequest(request(wire.tag(99, 0), eleven)))).toBe('varint_too_long');
    expect(protoLoaderDecode(request(wire.tag(99, 0), eleven))).toEqual({ attributes: {} }); // protobufjs skips any length
    expect(codeOf(() => decodeCheckRequest(Buffer.concat([wire.tag(1, 2), eleven])))).toBe('varint_too_long');
    const port = (varint: number[]) => request(wire.len(1, wire.len(1, wire.len(1, wire.tag(3, 0), Buffer.from(varint)))));
    expect(codeOf(() => decodeCheckRequest(port([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])))).toBe('varint_too_long');
    expect(decodeCheckRequest(port([0x90, 0xbf, 0x82, 0x80, 0x00])).attributes?.source?.address?.socket_address?.port_value).toBe(40848);
    expect(codeOf(() => decodeCheckRequest(request(wire.tag(99, 0), Buffer.from([0x80, 0x80]))))).toBe('truncated');
  });

  it(`refuses Struct nesting past ${MAX_STRUCT_DEPTH} levels, where protobufjs' own limit (100 messages) is 49`, () => {
    expectSameAsProtoLoader(nested(MAX_STRUCT_DEPTH));
    expect(codeOf(() => decodeCheckRequest(nested(MAX_STRUCT_DEPTH + 1)))).toBe('too_deep');
    expect(inputOf(protoLoaderDecode(nested(49))).filterMetadata).toBeDefined();
    expect(() => protoLoaderDecode(nested(50))).toThrow(/maximum nesting depth/);
    expectSameAsProtoLoader(nested(MAX_STRUCT_DEPTH, 'list_value'));
    expect(codeOf(() => decodeCheckRequest(nested(MAX_STRUCT_DEPTH + 1, 'list_value')))).toBe('too_deep');
    for (const bytes of [nested(60), nested(2_000), nested(2_000, 'list_value')]) {
      expect(codeOf(() => decodeCheckRequest(bytes))).toBe('too_deep');
      expect(() => protoLoaderDecode(bytes)).toThrow(/depth/);
    }
  });

  it('throws at every truncation of a message, as proto-loader does; a cut before any field is the empty message', () => {
    for (const bytes of [encode(corpus[0]![1]), encode(corpus[5]![1]), encode(corpus[6]![1])]) {
      expect(decodeCheckRequest(bytes.subarray(0, 0))).toStrictEqual({});
      for (let length = 1; length < bytes.length; length++) {
        expect(codeOf(() => decodeCheckRequest(bytes.subarray(0, length)))).toBe('truncated');
        expect(() => protoLoaderDecode(bytes.subarray(0, length))).toThrow();
      }
    }
  });

  it('throws at every cut inside a field of a nested message, or decodes the shorter message a cut between fields leaves', () => {
    const bench = benchCheckRequest(token, '/svc4/items/7?page=2');
    const attributes = payloadOf(encode(bench));
    const httpRequest = payloadOf(encode({ attributes: { request: bench.attributes.request } }), 3);
    const cutStrings: string[] = [];
    for (const [inner, wrap] of [[attributes, (b: Buffer) => wire.len(1, b)], [httpRequest, (b: Buffer) => request(wire.len(4, wire.len(2, b)))]] as const) {
      for (let length = 0; length <= inner.length; length++) {
        const bytes = wrap(inner.subarray(0, length));
        const ours = attempt(decodeCheckRequest, bytes);
        if (ours.value) {
          expectSameAsProtoLoader(bytes);
          continue;
        }
        expect((ours.error as ProtobufDecodeError).code).toBe('truncated');
        const theirs = attempt(protoLoaderDecode, bytes);
        if (!theirs.value) continue;
        // protobufjs cut a string short; it throws if a string past its message's end is refused
        expect(() => prunedDecode(bytes, { strictStrings: true })).toThrow(RangeError);
        cutStrings.push(JSON.stringify(declaredFields(theirs.value)));
      }
    }
    expect(cutStrings.length).toBeGreaterThan(0);
    expect(cutStrings.some((s) => s.includes('"path":"/svc4/ite"'))).toBe(true);
  });
});

/** A small seeded PRNG (mulberry32): the same mutations on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(bytes: Buffer, next: () => number): Buffer {
  const out = Buffer.from(bytes);
  const flips = next() < 0.7 ? 1 : 1 + Math.floor(next() * 3);
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(next() * out.length);
    out[at]! ^= 1 << Math.floor(next() * 8);
  }
  return next() < 0.3 ? out.subarray(0, Math.floor(next() * out.length)) : out;
}

const DELIBERATE: ProtobufDecodeErrorCode[] = ['wire_type', 'group', 'field_number', 'truncated', 'varint_too_long', 'too_deep'];

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.error || b.error) return Boolean(a.error && b.error);
  return isDeepStrictEqual(a.value, declaredFields(b.value)) && isDeepStrictEqual(inputOf(a.value), inputOf(b.value!));
}

describe('CheckRequest decoding: mutated messages', () => {
  it('decode as proto-loader does, or differ only where a difference is deliberate', () => {
    const next = random(20240607);
    const seen: Record<string, number> = {};
    const messages = [...corpus.filter(([name]) => !name.startsWith('unicode')).map(([, m]) => encode(m)).filter((b) => b.length > 2), nested(MAX_STRUCT_DEPTH), request(wire.len(1, wire.str(4, 'a')), wire.len(1, wire.str(5, 'b')))];
    for (const original of messages) {
      for (let i = 0; i < 1500; i++) {
        const bytes = mutate(original, next);
        const ours = attempt(decodeCheckRequest, bytes);
        let verdict: string;
        if (sameOutcome(ours, attempt(protoLoaderDecode, bytes))) verdict = ours.error ? 'both throw' : 'same';
        else {
          const pruned = attempt(prunedDecode, bytes);
          if (sameOutcome(ours, pruned)) verdict = 'differs from proto-loader only in a field not read';
          else if (ours.error) {
            expect(ours.error).toBeInstanceOf(ProtobufDecodeError);
            const { code } = ours.error as ProtobufDecodeError;
            expect(DELIBERATE).toContain(code);
            // protobufjs reads a string past its message's end, cut short, where it throws for anything else
            if (code === 'truncated') expect(() => prunedDecode(bytes, { strictStrings: true })).toThrow(RangeError);
            verdict = `refused: ${code}`;
          } else if (pruned.error) {
            expect(pruned.error).toBeInstanceOf(TypeError); // a map entry without its Struct or Value
            verdict = 'a map entry without its message value';
          } else {
            expect(covers(ours.value, declaredFields(pruned.value))).toBe(true);
            verdict = 'a message field seen twice, merged';
          }
        }
        seen[verdict] = (seen[verdict] ?? 0) + 1;
      }
    }
    expect(seen.same).toBeGreaterThan(1000);
    expect(seen['both throw']).toBeGreaterThan(1000);
  });
});

describe('CheckRequest decoding through the gRPC server', () => {
  let fixture: FilterFixture;
  let client: ExtAuthzClient;
  let raw: Client;
  const rawCheck = (bytes: Buffer) =>
    new Promise<{ error: ServiceError | null }>((resolve) => {
      raw.makeUnaryRequest('/envoy.service.auth.v3.Authorization/Check', (b: Buffer) => b, (b: Buffer) => b, bytes, (error) => resolve({ error }));
    });

  beforeAll(async () => {
    fixture = await startFilterFixture({
      'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: web, namespace: default }
spec:
  rules:
  - to: [{ operation: { paths: ["/open/*"] } }]
`,
    });
    client = new ExtAuthzClient(`127.0.0.1:${fixture.filter.grpcPort}`);
    raw = new Client(`127.0.0.1:${fixture.filter.grpcPort}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    raw.close();
    await fixture.close();
  });

  it('decides as before, from headers or header_map', async () => {
    expect(outcomeOf(await client.check({ path: '/open/a' })).status).toBe(200);
    expect(outcomeOf(await client.check({ path: '/closed' })).status).toBe(403);
    const viaHeaderMap = checkRequest({ path: '/ignored' }) as { attributes: { request: { http: Record<string, unknown> } } };
    viaHeaderMap.attributes.request.http = { method: 'GET', header_map: { headers: [{ key: ':path', raw_value: Buffer.from('/open/raw') }, { key: ':authority', value: 'app.example.com' }] } };
    expect(outcomeOf(await client.check(viaHeaderMap)).status).toBe(200);
  });

  it('fails a malformed message with INTERNAL and goes on serving', async () => {
    for (const bytes of [Buffer.from([0x0a, 0x05, 0x62]), request(wire.tag(50, 3)), nested(2_000)]) {
      const { error } = await rawCheck(bytes);
      expect(error?.code).toBe(status.INTERNAL);
      expect(outcomeOf(await client.check({ path: '/open/after' })).status).toBe(200);
    }
  });
});
