/**
 * For holding the hand-written CheckRequest decoder to proto-loader's: protobuf bytes written by hand
 * (for what no encoder writes), the fields CheckRequestMessage declares, and a second reference decoder
 * — protobufjs over the same protos with every other field removed, as proto-loader would decode if
 * those fields did not exist. Where proto-loader fails or differs only inside a field the hand-written
 * decoder skips unread, the two agree with that reference.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import protobuf from 'protobufjs';
import { PROTO_OPTIONS, protoRoot } from '../../../src/authz/transport/proto.js';

/** Every message type CheckRequestMessage reaches, with the fields it declares (grpc-messages.ts). */
export const DECLARED: Record<string, readonly string[]> = {
  'envoy.service.auth.v3.CheckRequest': ['attributes'],
  'envoy.service.auth.v3.AttributeContext': ['source', 'destination', 'request', 'context_extensions', 'metadata_context', 'tls_session', 'route_metadata_context'],
  'envoy.service.auth.v3.AttributeContext.Peer': ['address', 'principal', 'certificate', 'labels'],
  'envoy.config.core.v3.Address': ['socket_address'],
  'envoy.config.core.v3.SocketAddress': ['address', 'port_value'],
  'envoy.service.auth.v3.AttributeContext.Request': ['http'],
  'envoy.service.auth.v3.AttributeContext.HttpRequest': ['id', 'method', 'headers', 'header_map', 'path', 'host', 'scheme'],
  'envoy.config.core.v3.HeaderMap': ['headers'],
  'envoy.config.core.v3.HeaderValue': ['key', 'value', 'raw_value'],
  'envoy.config.core.v3.Metadata': ['filter_metadata'],
  'envoy.service.auth.v3.AttributeContext.TLSSession': ['sni'],
  'google.protobuf.Struct': ['fields'],
  'google.protobuf.Value': ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'],
  'google.protobuf.ListValue': ['values'],
};

function declaredOf(type: protobuf.Type): readonly string[] {
  const names = DECLARED[type.fullName.slice(1)];
  if (!names) throw new Error(`${type.fullName} is reached by a declared field but not in DECLARED`);
  return names;
}

/** The protos as proto-loader loads them (google/protobuf/* from protobufjs' bundled copies), pruned to DECLARED. */
function prunedCheckRequestType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (existsSync(join(protoRoot(), target)) ? join(protoRoot(), target) : target);
  root.loadSync('envoy/service/auth/v3/external_auth.proto', { keepCase: true }).resolveAll();
  for (const name of Object.keys(DECLARED)) {
    const type = root.lookupType(name);
    for (const field of [...type.fieldsArray]) {
      if (DECLARED[name]!.includes(field.name)) continue;
      field.partOf?.remove(field);
      type.remove(field);
    }
  }
  return root.lookupType('envoy.service.auth.v3.CheckRequest');
}

const PRUNED = prunedCheckRequestType();

/**
 * protobufjs decode + toObject, as proto-loader's deserialize, over the pruned protos. With
 * `strictStrings`, a string that runs past the end of its message throws, as protobufjs' bytes do,
 * instead of being cut short.
 */
export function prunedDecode(bytes: Buffer, { strictStrings = false } = {}): Record<string, unknown> {
  const reader = protobuf.Reader.create(bytes);
  if (strictStrings) {
    const cutShort = reader.string;
    reader.string = function string(this: protobuf.Reader) {
      const start = this.pos;
      const length = this.uint32();
      if (length > this.len - this.pos) throw new RangeError('string past the end of its message');
      this.pos = start;
      return cutShort.call(this);
    };
  }
  return PRUNED.toObject(PRUNED.decode(reader), PROTO_OPTIONS);
}

/** A proto-loader-shaped message cut down to the declared fields (no oneof names, no other fields). */
export function declaredFields(message: unknown, type: protobuf.Type = PRUNED): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const from = message as Record<string, unknown>;
  for (const name of declaredOf(type)) {
    if (!Object.hasOwn(from, name)) continue;
    const field = type.fields[name]!;
    const value = from[name];
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    if (!sub) out[name] = value;
    else if (field.map) out[name] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, declaredFields(v, sub)]));
    else if (field.repeated) out[name] = (value as unknown[]).map((v) => declaredFields(v, sub));
    else out[name] = declaredFields(value, sub);
  }
  return out;
}

/**
 * `merged` holds everything `last` does: what a message field seen twice decodes to under protobuf's
 * merge (scalars from the last, maps joined, repeated fields appended) against protobufjs' last-only.
 */
export function covers(merged: unknown, last: unknown): boolean {
  if (Buffer.isBuffer(last) || typeof last !== 'object' || last === null) return isDeepStrictEqual(merged, last);
  if (typeof merged !== 'object' || merged === null) return false;
  if (Array.isArray(last)) {
    if (!Array.isArray(merged) || merged.length < last.length) return false;
    return last.every((v, i) => isDeepStrictEqual(merged[merged.length - last.length + i], v));
  }
  return Object.keys(last).every((k) => Object.hasOwn(merged, k) && covers((merged as Record<string, unknown>)[k], (last as Record<string, unknown>)[k]));
}

/** Protobuf bytes by hand. */
export const wire = {
  varint(n: number | bigint): Buffer {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return Buffer.from(out);
  },
  tag(field: number, wireType: number): Buffer {
    return wire.varint((field << 3) | wireType);
  },
  /** A length-delimited field of the parts, concatenated. */
  len(field: number, ...parts: Uint8Array[]): Buffer {
    const payload = Buffer.concat(parts);
    return Buffer.concat([wire.tag(field, 2), wire.varint(payload.length), payload]);
  },
  str(field: number, s: string | Uint8Array): Buffer {
    return wire.len(field, typeof s === 'string' ? Buffer.from(s) : s);
  },
  uint(field: number, n: number | bigint): Buffer {
    return Buffer.concat([wire.tag(field, 0), wire.varint(n)]);
  },
  double(field: number, n: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(n);
    return Buffer.concat([wire.tag(field, 1), b]);
  },
  fixed32(field: number, n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return Buffer.concat([wire.tag(field, 5), b]);
  },
  /** A map<string, string> entry, or one with a message value (already encoded). */
  entry(field: number, key: string | undefined, value: string | Uint8Array | undefined): Buffer {
    return wire.len(field, key === undefined ? Buffer.alloc(0) : wire.str(1, key), value === undefined ? Buffer.alloc(0) : wire.str(2, value));
  },
};

/** The payload of the length-delimited field the bytes start with, `depth` times over. */
export function payloadOf(bytes: Buffer, depth = 1): Buffer {
  let b = bytes;
  for (let d = 0; d < depth; d++) {
    let pos = 1; // one-byte tags only
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = b[pos++]!;
      length |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    b = b.subarray(pos, pos + length);
  }
  return b;
}
