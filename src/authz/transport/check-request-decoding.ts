/**
 * envoy.service.auth.v3.CheckRequest wire bytes -> CheckRequestMessage, read directly (protobuf-reader.ts):
 * proto-loader's protobufjs decode + toObject cost ~7–9 µs per request. Only the fields grpc-messages.ts
 * declares are built, in the shape proto-loader gives them; every other field is skipped by its wire
 * type, unread (test/authz/check-request-decoding.test.ts holds this decoder to proto-loader's).
 *
 * Malformed bytes throw a ProtobufDecodeError, which grpc-js answers with INTERNAL, as it does a message
 * proto-loader cannot decode; so does Struct nesting past MAX_STRUCT_DEPTH. Where protobufjs departs
 * from protobuf's rules, these are followed: a message field seen twice is merged (protobufjs keeps the
 * last), a map entry without its value gets an empty Struct or Value (protobufjs throws a TypeError).
 */
import type { CheckRequestMessage, HeaderMap, Peer, SocketAddress, Struct, StructValue } from './grpc-messages.js';
import { Reader, reads } from './protobuf-reader.js';

export { ProtobufDecodeError, type ProtobufDecodeErrorCode } from './protobuf-reader.js';

/** Structs and lists inside a filter_metadata Struct (itself level 1); Envoy's metadata is a few deep. */
export const MAX_STRUCT_DEPTH = 32;

type Attributes = NonNullable<CheckRequestMessage['attributes']>;
type HttpRequest = NonNullable<NonNullable<Attributes['request']>['http']>;
type Metadata = NonNullable<Attributes['metadata_context']>;
type Address = NonNullable<Peer['address']>;
type HeaderValue = NonNullable<HeaderMap['headers']>[number];
type ListValue = NonNullable<StructValue['listValue']>;

/** Sets a map entry as protobufjs does, "__proto__" included as an own key. */
function setEntry<T>(map: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, configurable: true, writable: true });
  else map[key] = value;
}

const ENTRY_FIELDS = reads(1, 2);

function stringEntry(r: Reader, end: number, map: Record<string, string> = {}): Record<string, string> {
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) key = r.name(end);
    else if (tag === 0x12) value = r.string(end);
    else r.skip(tag, end, ENTRY_FIELDS);
  }
  setEntry(map, key, value);
  return map;
}

/** A map<string, message> entry: the value defaults to an empty message, and merges if repeated. */
function messageEntry<T extends object>(r: Reader, end: number, map: Record<string, T> = {}, decodeValue: (end: number, prior: T | undefined) => T): Record<string, T> {
  let key = '';
  let value: T | undefined;
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) key = r.name(end);
    else if (tag === 0x12) value = decodeValue(r.end(end), value);
    else r.skip(tag, end, ENTRY_FIELDS);
  }
  setEntry(map, key, value ?? ({} as T));
  return map;
}

const ONLY_FIELD_1 = reads(1);

/** google.protobuf.Struct at `depth`: fields 1 (map<string, Value>). */
function struct(r: Reader, end: number, depth: number, into: Struct = {}): Struct {
  if (depth > MAX_STRUCT_DEPTH) r.fail('too_deep');
  const decodeValue = (end: number, prior: StructValue | undefined) => structValue(r, end, depth, prior);
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) into.fields = messageEntry(r, r.end(end), into.fields, decodeValue);
    else r.skip(tag, end, ONLY_FIELD_1);
  }
  return into;
}

function listValue(r: Reader, end: number, depth: number, into: ListValue = {}): ListValue {
  if (depth > MAX_STRUCT_DEPTH) r.fail('too_deep');
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) (into.values ??= []).push(structValue(r, r.end(end), depth));
    else r.skip(tag, end, ONLY_FIELD_1);
  }
  return into;
}

const VALUE_FIELDS = reads(1, 2, 3, 4, 5, 6);

/**
 * google.protobuf.Value, one of null_value 1, number_value 2, string_value 3, bool_value 4,
 * struct_value 5, list_value 6. Like protobufjs, a second member seen does not clear the first.
 */
function structValue(r: Reader, end: number, depth: number, into: StructValue = {}): StructValue {
  while (r.pos < end) {
    const tag = r.tag(end);
    switch (tag) {
      case 0x08: into.nullValue = r.uint32(end) | 0; break;
      case 0x11: into.numberValue = r.double(end); break;
      case 0x1a: into.stringValue = r.string(end); break;
      case 0x20: into.boolValue = r.uint32(end) !== 0; break;
      case 0x2a: into.structValue = struct(r, r.end(end), depth + 1, into.structValue); break;
      case 0x32: into.listValue = listValue(r, r.end(end), depth + 1, into.listValue); break;
      default: r.skip(tag, end, VALUE_FIELDS);
    }
  }
  return into;
}

/** envoy.config.core.v3.Metadata: filter_metadata 1 (map<string, Struct>); typed_filter_metadata is not read. */
function metadata(r: Reader, end: number, into: Metadata = {}): Metadata {
  const decodeStruct = (end: number, prior: Struct | undefined) => struct(r, end, 1, prior);
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) into.filter_metadata = messageEntry(r, r.end(end), into.filter_metadata, decodeStruct);
    else r.skip(tag, end, ONLY_FIELD_1);
  }
  return into;
}

const SOCKET_ADDRESS_FIELDS = reads(2, 3);

/** SocketAddress: address 2, port_value 3. */
function socketAddress(r: Reader, end: number, into: SocketAddress = {}): SocketAddress {
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x12) into.address = r.string(end);
    else if (tag === 0x18) into.port_value = r.uint32(end);
    else r.skip(tag, end, SOCKET_ADDRESS_FIELDS);
  }
  return into;
}

/** Address: socket_address 1 (pipe and envoy_internal_address are not read). */
function address(r: Reader, end: number, into: Address = {}): Address {
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) into.socket_address = socketAddress(r, r.end(end), into.socket_address);
    else r.skip(tag, end, ONLY_FIELD_1);
  }
  return into;
}

const PEER_FIELDS = reads(1, 3, 4, 5);

/** AttributeContext.Peer: address 1, labels 3, principal 4, certificate 5. */
function peer(r: Reader, end: number, into: Peer = {}): Peer {
  while (r.pos < end) {
    const tag = r.tag(end);
    switch (tag) {
      case 0x0a: into.address = address(r, r.end(end), into.address); break;
      case 0x1a: into.labels = stringEntry(r, r.end(end), into.labels); break;
      case 0x22: into.principal = r.string(end); break;
      case 0x2a: into.certificate = r.string(end); break;
      default: r.skip(tag, end, PEER_FIELDS);
    }
  }
  return into;
}

const HEADER_VALUE_FIELDS = reads(1, 2, 3);

function headerValue(r: Reader, end: number): HeaderValue {
  const into: HeaderValue = {};
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) into.key = r.name(end);
    else if (tag === 0x12) into.value = r.string(end);
    else if (tag === 0x1a) into.raw_value = r.bytes(end);
    else r.skip(tag, end, HEADER_VALUE_FIELDS);
  }
  return into;
}

function headerMap(r: Reader, end: number, into: HeaderMap = {}): HeaderMap {
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) (into.headers ??= []).push(headerValue(r, r.end(end)));
    else r.skip(tag, end, ONLY_FIELD_1);
  }
  return into;
}

const HTTP_FIELDS = reads(1, 2, 3, 4, 5, 6, 13);

/** AttributeContext.HttpRequest: id 1, method 2, headers 3, path 4, host 5, scheme 6, header_map 13. */
function httpRequest(r: Reader, end: number, into: HttpRequest = {}): HttpRequest {
  while (r.pos < end) {
    const tag = r.tag(end);
    switch (tag) {
      case 0x0a: into.id = r.string(end); break;
      case 0x12: into.method = r.string(end); break;
      case 0x1a: into.headers = stringEntry(r, r.end(end), into.headers); break;
      case 0x22: into.path = r.string(end); break;
      case 0x2a: into.host = r.string(end); break;
      case 0x32: into.scheme = r.string(end); break;
      case 0x6a: into.header_map = headerMap(r, r.end(end), into.header_map); break;
      default: r.skip(tag, end, HTTP_FIELDS);
    }
  }
  return into;
}

const ONLY_FIELD_2 = reads(2);

/** AttributeContext.Request: http 2 (time is not read). */
function request(r: Reader, end: number, into: NonNullable<Attributes['request']> = {}): NonNullable<Attributes['request']> {
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x12) into.http = httpRequest(r, r.end(end), into.http);
    else r.skip(tag, end, ONLY_FIELD_2);
  }
  return into;
}

function tlsSession(r: Reader, end: number, into: NonNullable<Attributes['tls_session']> = {}): NonNullable<Attributes['tls_session']> {
  while (r.pos < end) {
    const tag = r.tag(end);
    if (tag === 0x0a) into.sni = r.string(end);
    else r.skip(tag, end, ONLY_FIELD_1);
  }
  return into;
}

const ATTRIBUTE_FIELDS = reads(1, 2, 4, 10, 11, 12, 13);

/**
 * AttributeContext: source 1, destination 2, request 4, context_extensions 10, metadata_context 11,
 * tls_session 12, route_metadata_context 13.
 */
function attributes(r: Reader, end: number, into: Attributes = {}): Attributes {
  while (r.pos < end) {
    const tag = r.tag(end);
    switch (tag) {
      case 0x0a: into.source = peer(r, r.end(end), into.source); break;
      case 0x12: into.destination = peer(r, r.end(end), into.destination); break;
      case 0x22: into.request = request(r, r.end(end), into.request); break;
      case 0x52: into.context_extensions = stringEntry(r, r.end(end), into.context_extensions); break;
      case 0x5a: into.metadata_context = metadata(r, r.end(end), into.metadata_context); break;
      case 0x62: into.tls_session = tlsSession(r, r.end(end), into.tls_session); break;
      case 0x6a: into.route_metadata_context = metadata(r, r.end(end), into.route_metadata_context); break;
      default: r.skip(tag, end, ATTRIBUTE_FIELDS);
    }
  }
  return into;
}

/** CheckRequest: attributes 1. Throws a ProtobufDecodeError for bytes that are not one. */
export function decodeCheckRequest(bytes: Buffer): CheckRequestMessage {
  const r = new Reader(bytes);
  const message: CheckRequestMessage = {};
  while (r.pos < bytes.length) {
    const tag = r.tag(bytes.length);
    if (tag === 0x0a) message.attributes = attributes(r, r.end(bytes.length), message.attributes);
    else r.skip(tag, bytes.length, ONLY_FIELD_1);
  }
  return message;
}
