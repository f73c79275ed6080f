/**
 * CheckResponse bytes for grpc-js. proto-loader's serializer (protobufjs fromObject + encode) is the
 * largest single cost of an allow; the allow response of a token served from the verified-token cache
 * is the same bytes every time, so they are encoded once and reused. grpc-js gets a responseSerialize
 * that passes those bytes through (it copies them into its own frame, so sharing them is safe).
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { CheckResult, HeaderToSet } from '../check-input.js';
import { checkResponseFromResult } from './grpc-messages.js';

type Serialize = (value: unknown) => Buffer;

interface EncodedAllow {
  headersToRemove: readonly string[];
  queryParametersToRemove: readonly string[];
  peerPrincipal: string | undefined;
  requestPrincipal: string | undefined;
  bytes: Buffer;
}

/** Encodes results to CheckResponse bytes; allows whose mutation is memoized (frozen) are encoded once. */
export class CheckResponseEncoder {
  /**
   * Keyed by the memoized identity-header array (one per token, rule, location, peer and spoofed
   * headers; see upstream-mutation-memo.ts); the other inputs of the encoding are compared on use.
   */
  private readonly allows = new WeakMap<readonly HeaderToSet[], EncodedAllow>();

  constructor(private readonly serialize: Serialize) {}

  encode(result: CheckResult): Buffer {
    if (result.decision !== 'allow' || !Object.isFrozen(result.headers)) return this.serialize(checkResponseFromResult(result));
    const known = this.allows.get(result.headers);
    if (known && known.headersToRemove === result.headersToRemove && known.queryParametersToRemove === result.queryParametersToRemove
      && known.peerPrincipal === result.peerPrincipal && known.requestPrincipal === result.requestPrincipal) return known.bytes;
    const bytes = this.serialize(checkResponseFromResult(result));
    this.allows.set(result.headers, {
      headersToRemove: result.headersToRemove, queryParametersToRemove: result.queryParametersToRemove,
      peerPrincipal: result.peerPrincipal, requestPrincipal: result.requestPrincipal, bytes,
    });
    return bytes;
  }
}

/**
 * The Authorization service with a Check responseSerialize that passes encoded bytes through (and
 * still serializes a message object), and an encoder built on proto-loader's own serializer.
 */
export function passThroughCheckService(service: ServiceDefinition): { service: ServiceDefinition; encoder: CheckResponseEncoder } {
  const check = service.Check as MethodDefinition<unknown, unknown>;
  const original = check.responseSerialize;
  const serialize: Serialize = (value) => {
    const bytes: Uint8Array = original(value); // protobufjs may hand back a plain Uint8Array
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const passThrough: MethodDefinition<unknown, unknown> = { ...check, responseSerialize: (value) => (Buffer.isBuffer(value) ? value : serialize(value)) };
  return { service: { ...service, Check: passThrough }, encoder: new CheckResponseEncoder(serialize) };
}
