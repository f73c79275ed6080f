/**
 * The protobuf wire format read directly, for check-request-decoding.ts: varints, length-delimited
 * fields, strings as protobufjs makes them, skipping by wire type. Every read is bounded by the end of
 * the message it is in and throws a ProtobufDecodeError (with a code to tell why) rather than read past
 * it or guess: protobufjs, by contrast, cuts a string that runs past its message short, skips groups
 * and field number 0, and reads a field of the wrong wire type as if it had the right one.
 */

export type ProtobufDecodeErrorCode = 'truncated' | 'varint_too_long' | 'wire_type' | 'group' | 'field_number' | 'too_deep';

export class ProtobufDecodeError extends Error {
  constructor(readonly code: ProtobufDecodeErrorCode, readonly offset: number) {
    super(`malformed protobuf: ${code} at byte ${offset}`);
    this.name = 'ProtobufDecodeError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

/** The field numbers a decoder reads, as a mask: one of them with another wire type is refused, not skipped. */
export function reads(...numbers: number[]): number {
  return numbers.reduce((mask, n) => mask | (1 << n), 0);
}

/**
 * Map keys (header names above all) by their bytes: the same few on every request, so each is decoded
 * once, and the same string instance is then a property key V8 has already seen. Keys only, never
 * values: a value (a cookie, a token) must not be shared between requests, even as a cache hit.
 */
const KNOWN_NAMES = new Array<string>(1024).fill('');
const MAX_KNOWN_NAME = 64;

/** V8 copies a substring shorter than this out of its parent; a longer one keeps the whole parent alive. */
const COPIED_SUBSTRING = 13;
/** The stretch of the message decoded at once (as latin1) for the short ASCII strings in it. */
const SHORT_STRING_WINDOW = 4096;

/** A cursor over the message; every read is bounded by the end of the message it is in. */
export class Reader {
  pos = 0;
  private window = '';
  private windowStart = 0;

  constructor(private readonly buf: Buffer) {}

  fail(code: ProtobufDecodeErrorCode): never {
    throw new ProtobufDecodeError(code, this.pos);
  }

  private byte(end: number): number {
    if (this.pos >= end) this.fail('truncated');
    return this.buf[this.pos++]!;
  }

  /**
   * A varint's low 32 bits, unsigned. Five bytes hold 32 bits, ten a negative int32 sign-extended to
   * 64; no encoder writes another length for a tag, a length or a 32-bit value.
   */
  uint32(end: number): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte(end);
      value |= (b & 0x7f) << shift;
      if (b < 0x80) return value >>> 0;
    }
    for (let i = 6; i < 10; i++) if (this.byte(end) < 0x80) this.fail('varint_too_long');
    if (this.byte(end) >= 0x80) this.fail('varint_too_long');
    return value >>> 0;
  }

  /** The next field's tag. Groups (wire types 3 and 4) and wire types 6 and 7 go no further. */
  tag(end: number): number {
    const tag = this.uint32(end);
    if (tag >>> 3 === 0) this.fail('field_number');
    const wireType = tag & 7;
    if (wireType === 3 || wireType === 4) this.fail('group');
    if (wireType > 5) this.fail('wire_type');
    return tag;
  }

  /** A length-delimited field's length, as the offset where it ends. */
  end(end: number): number {
    const length = this.uint32(end);
    if (length > end - this.pos) this.fail('truncated');
    return this.pos + length;
  }

  /**
   * UTF-8 as Buffer#toString reads it (as protobufjs does): invalid sequences become U+FFFD. Each
   * toString is a call into C++ costing more than the rest of a field's decoding, so a short ASCII
   * string is cut from a latin1 window decoded once for all of them.
   */
  string(end: number): string {
    const stop = this.end(end);
    const start = this.pos;
    this.pos = stop;
    const buf = this.buf;
    if (stop - start >= COPIED_SUBSTRING) return buf.toString('utf8', start, stop);
    for (let i = start; i < stop; i++) if (buf[i]! >= 0x80) return buf.toString('utf8', start, stop);
    if (stop > this.windowStart + this.window.length) { // reading only moves forward
      this.windowStart = start;
      this.window = buf.toString('latin1', start, Math.min(buf.length, start + SHORT_STRING_WINDOW));
    }
    return this.window.substring(start - this.windowStart, stop - this.windowStart);
  }

  /** A map key, the same string as string() would give, from KNOWN_NAMES when it is there. */
  name(end: number): string {
    const stop = this.end(end);
    const start = this.pos;
    this.pos = stop;
    const buf = this.buf;
    const length = stop - start;
    if (length === 0 || length > MAX_KNOWN_NAME) return buf.toString('utf8', start, stop);
    // The slot from the length and three bytes; the comparison below checks every byte.
    const slot = (length * 0x9e5 + buf[start]! * 0x3b + buf[start + (length >> 1)]! * 0x11 + buf[stop - 1]!) & (KNOWN_NAMES.length - 1);
    const known = KNOWN_NAMES[slot]!;
    let same = known.length === length;
    for (let i = 0; same && i < length; i++) same = known.charCodeAt(i) === buf[start + i];
    if (same) return known;
    const name = buf.toString('utf8', start, stop);
    // One character a byte: each is the byte itself (ASCII) or U+FFFD for a stray byte, which equals no
    // byte; so the comparison above matches a kept name only to the very bytes it was decoded from.
    if (name.length === length) KNOWN_NAMES[slot] = name;
    return name;
  }

  /** A view of the message's own bytes, as protobufjs returns them. */
  bytes(end: number): Buffer {
    const stop = this.end(end);
    const bytes = this.buf.subarray(this.pos, stop);
    this.pos = stop;
    return bytes;
  }

  double(end: number): number {
    if (end - this.pos < 8) this.fail('truncated');
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** Skips a field this decoder does not read; `read` is the decoder's mask of the fields it does. */
  skip(tag: number, end: number, read: number): void {
    const field = tag >>> 3;
    if (field < 32 && (read >>> field) & 1) this.fail('wire_type');
    switch (tag & 7) {
      case VARINT:
        for (let i = 1; this.byte(end) >= 0x80; i++) if (i === 10) this.fail('varint_too_long');
        return;
      case FIXED64:
        return this.advance(8, end);
      case LENGTH_DELIMITED:
        this.pos = this.end(end);
        return;
      default: // FIXED32, the one wire type tag() lets through besides these
        return this.advance(4, end);
    }
  }

  private advance(n: number, end: number): void {
    if (end - this.pos < n) this.fail('truncated');
    this.pos += n;
  }
}
