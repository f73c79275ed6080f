/**
 * CheckResult -> envoy.service.auth.v3.CheckResponse wire bytes, written directly (sizes first, then
 * one buffer): proto-loader's protobufjs fromObject + encode cost ~8–11 µs per response. The bytes are
 * those protobufjs writes for the same message (test/authz/check-response-encoding.test.ts).
 *
 * Allow: status {code 0}, ok_response {headers (append=false), headers_to_remove (the token, spoofed
 * identity headers), query_parameters_to_remove}, dynamic_metadata {peer_principal, request_principal}.
 * Deny: status {code 16 (401) or 7 (403), message = reason}, denied_response {status, headers +
 * content-type text/plain (unless the result names its own, as sign-in pages do), body}. A
 * `set-cookie` header is sent with append=true: Envoy *sets* the others, and setting a name twice
 * would keep only the last cookie.
 */
import type { CheckResult, HeaderToSet } from '../check-input.js';

export const GRPC_OK = 0;
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_UNAUTHENTICATED = 16;

const TEXT_PLAIN: HeaderToSet = { name: 'content-type', value: 'text/plain' };

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Size of a length-delimited field (one-byte tag) whose payload is `n` bytes. */
function fieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}

/** HeaderValueOption {header {key, value}, append {value: false}}: payload size. */
function headerOptionSize(h: HeaderToSet): number {
  return fieldSize(fieldSize(Buffer.byteLength(h.name)) + fieldSize(Buffer.byteLength(h.value))) + 4;
}

/** Struct entry {key, value {string_value}}: payload size. */
function structEntrySize(key: string, value: string): number {
  return fieldSize(Buffer.byteLength(key)) + fieldSize(fieldSize(Buffer.byteLength(value)));
}

class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }
  /** A length-delimited field header: tag, then the payload's length. */
  open(tag: number, size: number): void {
    this.buf[this.pos++] = tag;
    this.varint(size);
  }
  string(tag: number, s: string): void {
    this.open(tag, Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos);
  }
  headerOption(tag: number, h: HeaderToSet): void {
    this.open(tag, headerOptionSize(h));
    this.open(0x0a, fieldSize(Buffer.byteLength(h.name)) + fieldSize(Buffer.byteLength(h.value)));
    this.string(0x0a, h.name);
    this.string(0x12, h.value);
    this.buf[this.pos++] = 0x12; // append: BoolValue {value: false}, true for set-cookie
    this.buf[this.pos++] = 0x02;
    this.buf[this.pos++] = 0x08;
    this.buf[this.pos++] = h.name === 'set-cookie' ? 0x01 : 0x00;
  }
  structEntry(key: string, value: string): void {
    this.open(0x0a, structEntrySize(key, value));
    this.string(0x0a, key);
    this.open(0x12, fieldSize(Buffer.byteLength(value)));
    this.string(0x1a, value);
  }
}

function encodeAllow(result: CheckResult): Buffer {
  let ok = 0;
  for (const h of result.headers) ok += fieldSize(headerOptionSize(h));
  for (const name of result.headersToRemove) ok += fieldSize(Buffer.byteLength(name));
  for (const name of result.queryParametersToRemove) ok += fieldSize(Buffer.byteLength(name));
  const peer = result.peerPrincipal || undefined;
  const principal = result.requestPrincipal || undefined;
  const metadata = (peer ? fieldSize(structEntrySize('peer_principal', peer)) : 0) + (principal ? fieldSize(structEntrySize('request_principal', principal)) : 0);
  const out = new Cursor(Buffer.allocUnsafe(4 + fieldSize(ok) + (peer || principal ? fieldSize(metadata) : 0)));
  out.open(0x0a, 2); // status {code: 0}
  out.varint(0x08);
  out.varint(GRPC_OK);
  out.open(0x1a, ok);
  for (const h of result.headers) out.headerOption(0x12, h);
  for (const name of result.headersToRemove) out.string(0x2a, name);
  for (const name of result.queryParametersToRemove) out.string(0x42, name);
  if (peer || principal) {
    out.open(0x22, metadata);
    if (peer) out.structEntry('peer_principal', peer);
    if (principal) out.structEntry('request_principal', principal);
  }
  return out.buf;
}

function encodeDeny(result: CheckResult): Buffer {
  const code = result.status === 401 ? GRPC_UNAUTHENTICATED : GRPC_PERMISSION_DENIED;
  const status = 2 + fieldSize(Buffer.byteLength(result.reason));
  const typed = result.headers.some((h) => h.name === 'content-type');
  let denied = fieldSize(1 + varintSize(result.status)) + (typed ? 0 : fieldSize(headerOptionSize(TEXT_PLAIN))) + fieldSize(Buffer.byteLength(result.body));
  for (const h of result.headers) denied += fieldSize(headerOptionSize(h));
  const out = new Cursor(Buffer.allocUnsafe(fieldSize(status) + fieldSize(denied)));
  out.open(0x0a, status);
  out.varint(0x08);
  out.varint(code);
  out.string(0x12, result.reason);
  out.open(0x12, denied);
  out.open(0x0a, 1 + varintSize(result.status)); // HttpStatus {code}
  out.varint(0x08);
  out.varint(result.status);
  for (const h of result.headers) out.headerOption(0x12, h);
  if (!typed) out.headerOption(0x12, TEXT_PLAIN);
  out.string(0x1a, result.body);
  return out.buf;
}

export function encodeCheckResponse(result: CheckResult): Buffer {
  return result.decision === 'allow' ? encodeAllow(result) : encodeDeny(result);
}
