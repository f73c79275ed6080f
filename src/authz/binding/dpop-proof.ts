/**
 * Checks a DPoP proof at the resource (RFC 9449 §4.3, §7.1) for a token bound to the key `jkt`:
 * exactly one `DPoP` header holding a strict compact JWS, `typ` dpop+jwt, an asymmetric `alg` from
 * the allow-list (never none or HS*) bound to the type of the embedded public `jwk`, `htm` and `htu`
 * naming this request, `iat` within the window either way, `ath` the hash of this access token, the
 * key's RFC 7638 thumbprint the token's `cnf.jkt`, the signature, and last (so a proof that fails
 * anything else cannot use up an id) a `jti` not seen before.
 *
 * The signature goes through the filter's own verifier (node:crypto or jose, filter.verifier), so a
 * DPoP request costs one signature verification more than a bearer request with a cached token. A
 * client signs every proof with the same header, so the parsed header (key imported, thumbprint
 * computed) is kept per header segment: only headers that passed every header check are kept.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { JwsAlgorithm } from '../config.js';
import { decodeBase64url } from '../jwt/parse-token.js';
import { importVerificationKeys, type VerificationKey } from '../jwt/verification-key.js';
import type { SignatureVerifier } from '../jwt/verify-signature.js';
import type { PathNormalizationOptions } from '../policy/normalize-path.js';
import { BindingError } from './binding-error.js';
import type { ProofReplayCache } from './proof-replay.js';
import { htuMatches } from './request-uri.js';

/** A proof is a header, not a token store: 8 KiB holds an RSA-4096 key and signature with room to spare. */
export const MAX_PROOF_LENGTH = 8 * 1024;
const MAX_JTI_LENGTH = 256;
const HEADER_CACHE_ENTRIES = 4096;
const DPOP_TYPES: ReadonlySet<string> = new Set(['dpop+jwt', 'application/dpop+jwt']);
/** JWK members that carry private or symmetric key material (RFC 7518 §6). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export interface DpopRequest {
  method: string;
  /** requestOrigin(scheme, host). */
  origin: string;
  /** The normalized path the decision is made on. */
  path: string;
  /** How the request's path was normalized: the proof's htu path is normalized the same way. */
  paths: PathNormalizationOptions;
}

export interface DpopProofOptions {
  algorithms: ReadonlySet<JwsAlgorithm>;
  /** |now - iat| must not exceed this. */
  iatWindowMs: number;
  replay: ProofReplayCache;
  verifySignature: SignatureVerifier;
}

interface ProofHeader {
  alg: JwsAlgorithm;
  key: VerificationKey;
  jkt: string;
}

function segment(part: string): Buffer {
  try {
    return decodeBase64url(part);
  } catch {
    throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
  }
}

function jsonObject(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(segment(part).toString('utf8'));
  } catch (error) {
    if (error instanceof BindingError) throw error;
    throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
  return value as Record<string, unknown>;
}

/** base64url SHA-256 of the access token (the proof's `ath`, RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

export class DpopProofVerifier {
  private readonly headers = new Map<string, ProofHeader>();

  constructor(private readonly options: DpopProofOptions) {}

  /**
   * Resolves when `proof` (the DPoP header value) proves possession of `jkt`'s key for this request
   * and for the access token whose accessTokenHash is `tokenHash`; throws a BindingError otherwise.
   */
  async verify(proof: string | undefined, request: DpopRequest, tokenHash: string, jkt: string, now: number): Promise<void> {
    if (proof === undefined || proof.trim() === '') throw new BindingError('ERR_DPOP_PROOF_MISSING');
    // Repeated headers arrive joined with ","; no compact JWS contains one.
    if (proof.includes(',')) throw new BindingError('ERR_DPOP_PROOF_MULTIPLE');
    const jws = proof.trim();
    if (jws.length > MAX_PROOF_LENGTH) throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
    const first = jws.indexOf('.');
    const second = first === -1 ? -1 : jws.indexOf('.', first + 1);
    if (second === -1 || jws.indexOf('.', second + 1) !== -1) throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
    const header = await this.header(jws.slice(0, first));
    const claims = jsonObject(jws.slice(first + 1, second));
    const { jti, htm, htu, iat, ath } = claims;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH || typeof htm !== 'string' || typeof htu !== 'string'
      || typeof iat !== 'number' || !Number.isFinite(iat) || typeof ath !== 'string') throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
    if (htm !== request.method) throw new BindingError('ERR_DPOP_PROOF_HTM');
    if (!htuMatches(htu, request.origin, request.path, request.paths)) throw new BindingError('ERR_DPOP_PROOF_HTU');
    if (Math.abs(now - iat * 1000) > this.options.iatWindowMs) throw new BindingError('ERR_DPOP_PROOF_IAT');
    if (ath !== tokenHash) throw new BindingError('ERR_DPOP_PROOF_ATH');
    if (header.jkt !== jkt) throw new BindingError('ERR_DPOP_KEY_MISMATCH');
    const signature = segment(jws.slice(second + 1));
    if (!(await this.options.verifySignature(jws, jws.slice(0, second), signature, header.alg, header.key))) throw new BindingError('ERR_DPOP_PROOF_SIGNATURE');
    if (!this.options.replay.firstUse(`${jkt}.${jti}`, now)) throw new BindingError('ERR_DPOP_PROOF_REPLAYED');
  }

  private async header(part: string): Promise<ProofHeader> {
    const known = this.headers.get(part);
    if (known) return known;
    const header = await this.parseHeader(part);
    if (this.headers.size >= HEADER_CACHE_ENTRIES) this.headers.delete(this.headers.keys().next().value!);
    this.headers.set(part, header);
    return header;
  }

  private async parseHeader(part: string): Promise<ProofHeader> {
    const header = jsonObject(part);
    if (Object.hasOwn(header, 'crit')) throw new BindingError('ERR_DPOP_PROOF_MALFORMED');
    if (typeof header.typ !== 'string' || !DPOP_TYPES.has(header.typ.toLowerCase())) throw new BindingError('ERR_DPOP_PROOF_TYPE');
    const alg = header.alg;
    if (typeof alg !== 'string' || !this.options.algorithms.has(alg as JwsAlgorithm)) throw new BindingError('ERR_DPOP_PROOF_ALG');
    const jwk = header.jwk;
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new BindingError('ERR_DPOP_PROOF_KEY');
    if (SECRET_MEMBERS.some((m) => Object.hasOwn(jwk, m))) throw new BindingError('ERR_DPOP_PROOF_KEY');
    // The key is bound to the algorithms of its type (verification-key.ts): an EC key cannot verify as RS256.
    const [key] = importVerificationKeys({ keys: [jwk as JWK] }, new Set([alg as JwsAlgorithm]));
    if (!key) throw new BindingError('ERR_DPOP_PROOF_KEY');
    let jkt: string;
    try {
      jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256');
    } catch {
      throw new BindingError('ERR_DPOP_PROOF_KEY');
    }
    return { alg: alg as JwsAlgorithm, key, jkt };
  }
}
