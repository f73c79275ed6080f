/**
 * CheckResponse bytes for grpc-js: encoded by check-response-encoding.ts rather than by proto-loader's
 * serializer, and for an allow of a token served from the verified-token cache, encoded once and
 * reused (the same token, rule, peer and request headers give the same bytes). grpc-js copies the
 * bytes into its own frame (grpc-server.ts passes them through), so sharing them is safe.
 */
import type { CheckResult, HeaderToSet } from '../check-input.js';
import { encodeCheckResponse } from './check-response-encoding.js';

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

  encode(result: CheckResult): Buffer {
    if (result.decision !== 'allow' || !Object.isFrozen(result.headers)) return encodeCheckResponse(result);
    const known = this.allows.get(result.headers);
    if (known && known.headersToRemove === result.headersToRemove && known.queryParametersToRemove === result.queryParametersToRemove
      && known.peerPrincipal === result.peerPrincipal && known.requestPrincipal === result.requestPrincipal) return known.bytes;
    const bytes = ownCopy(encodeCheckResponse(result));
    this.allows.set(result.headers, {
      headersToRemove: result.headersToRemove, queryParametersToRemove: result.queryParametersToRemove,
      peerPrincipal: result.peerPrincipal, requestPrincipal: result.requestPrincipal, bytes,
    });
    return bytes;
  }
}

/**
 * The bytes in memory of their own, for keeping. Buffer.allocUnsafe (the encoder's) hands out slices of
 * a shared 8 KiB pool, and a slice that is kept keeps its whole slab alive: ~8 KiB held per cached
 * allow of a few hundred bytes, up to the token cache's size (10,000 by default: ~80 MB). A response
 * that is sent once is dropped at once, so only the kept ones are copied.
 */
function ownCopy(bytes: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}
