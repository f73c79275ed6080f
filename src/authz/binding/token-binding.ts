/**
 * Sender-constrained tokens at the filter: after the token is authenticated (its signature verified
 * once and cached, jwt/authenticate.ts), every request is checked against the token's binding.
 * - `cnf.jkt` (RFC 9449): only under `Authorization: DPoP`, with a valid proof of that key for this
 *   request (dpop-proof.ts); the same token under `Bearer` (or any other location) is refused (§7.2).
 * - `cnf["x5t#S256"]` (RFC 8705 §3): only when the client certificate the proxy verified has that
 *   thumbprint (peer-certificate.ts); no certificate, or another one, is refused.
 * - an unbound token under `Authorization: DPoP` is refused: that scheme promises a bound token.
 * What passes gives `request.auth.binding` its values (`mtls`, `dpop`, or `none`).
 */
import type { CheckInput } from '../check-input.js';
import type { FilterConfig } from '../config.js';
import type { Authentication } from '../jwt/authenticate.js';
import { isDpopScheme } from '../jwt/locate-token.js';
import type { SignatureVerifier } from '../jwt/verify-signature.js';
import type { PathNormalizationOptions } from '../policy/normalize-path.js';
import { BindingError } from './binding-error.js';
import { confirmationOf, UNBOUND_KINDS, type BindingKind, type Confirmation } from './confirmation.js';
import { accessTokenHash, DpopProofVerifier } from './dpop-proof.js';
import { PeerCertificateThumbprints } from './peer-certificate.js';
import { ProofReplayCache } from './proof-replay.js';
import { requestOrigin } from './request-uri.js';

type Authenticated = Extract<Authentication, { kind: 'authenticated' }>;

export interface TokenBindingOptions {
  config: Pick<FilterConfig, 'dpop'>;
  verifySignature: SignatureVerifier;
  now: () => number;
  /** A live proof id was forgotten early because the replay cache was full. */
  onReplayEviction?: () => void;
}

export class TokenBinding {
  private readonly proofs: DpopProofVerifier;
  private readonly certificates = new PeerCertificateThumbprints();
  /** Each verified token's ath, by its (cached) payload object, kept with the token it was computed from. */
  private readonly tokenHashes = new WeakMap<object, { token: string; hash: string }>();
  /** The DPoP challenge's `algs` (RFC 9449 §7.1). */
  readonly dpopAlgorithms: string;

  constructor(private readonly options: TokenBindingOptions) {
    const { dpop } = options.config;
    // A proof is accepted while |now - iat| <= iatWindow, so its id must be remembered for twice that.
    const replay = new ProofReplayCache({
      maxEntries: dpop.replayCache.maxEntries,
      retainMs: 2 * dpop.iatWindow,
      ...(options.onReplayEviction ? { onEvict: options.onReplayEviction } : {}),
    });
    this.proofs = new DpopProofVerifier({ algorithms: new Set(dpop.algorithms), iatWindowMs: dpop.iatWindow, replay, verifySignature: options.verifySignature });
    this.dpopAlgorithms = dpop.algorithms.join(' ');
  }

  /**
   * The token's bindings, every one of them satisfied by this request; throws (or rejects with) a
   * BindingError otherwise. Synchronous unless a DPoP proof is to be verified, so a bearer or an
   * mTLS-bound token costs no promise.
   */
  check(input: CheckInput, auth: Authenticated, path: string, paths: PathNormalizationOptions): readonly BindingKind[] | Promise<readonly BindingKind[]> {
    const asDpop = isDpopScheme(auth.location);
    if (auth.payload.cnf === undefined && !asDpop) return UNBOUND_KINDS; // a bearer token: the common case, no lookup
    const confirmation = confirmationOf(auth.payload);
    if (confirmation.jkt === undefined) {
      if (asDpop) throw new BindingError('ERR_DPOP_NOT_BOUND');
      this.checkCertificate(input, confirmation);
      return confirmation.kinds;
    }
    if (!asDpop) throw new BindingError('ERR_DPOP_BOUND_AS_BEARER');
    // The certificate first: it is cheap, and a request refused anyway must not use up its proof's jti.
    this.checkCertificate(input, confirmation);
    const request = { method: input.method, origin: requestOrigin(input.scheme || 'http', input.host), path, paths };
    let known = this.tokenHashes.get(auth.payload);
    if (known?.token !== auth.token) this.tokenHashes.set(auth.payload, (known = { token: auth.token, hash: accessTokenHash(auth.token) }));
    return this.proofs.verify(input.headers.dpop, request, known.hash, confirmation.jkt, this.options.now()).then(() => confirmation.kinds);
  }

  private checkCertificate(input: CheckInput, confirmation: Confirmation): void {
    if (confirmation.certificateThumbprint === undefined) return;
    if (!input.peerCertificate) throw new BindingError('ERR_CERTIFICATE_MISSING');
    const thumbprint = this.certificates.thumbprint(input.peerCertificate);
    if (thumbprint === undefined) throw new BindingError('ERR_CERTIFICATE_MISSING');
    if (thumbprint !== confirmation.certificateThumbprint) throw new BindingError('ERR_CERTIFICATE_MISMATCH');
  }
}
