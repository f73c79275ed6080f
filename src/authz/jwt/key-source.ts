/**
 * Where one issuer's verification keys come from: inline JWKS, a remote jwksUri (or OIDC discovery),
 * or idgate's own issuer in the same process. Remote keys are fetched in the background, refetched on
 * an unknown kid at most once per cooldown, and kept serving from cache when the issuer is down.
 */
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import type { VerificationKeySet } from '../../keys/keyset.js';
import type { JwsAlgorithm } from '../config.js';
import { importVerificationKeys, type VerificationKey } from './verification-key.js';

export interface KeySourceOptions {
  algorithms: ReadonlySet<JwsAlgorithm>;
  refreshIntervalMs: number;
  unknownKidCooldownMs: number;
  fetchTimeoutMs: number;
  now: () => number;
  logger: Logger;
  onFetch?: (source: string, ok: boolean) => void;
}

type Loader = () => Promise<{ keys?: readonly JWK[] }>;

export class KeySource {
  private keys: VerificationKey[] = [];
  private byKid = new Map<string, VerificationKey>();
  private inFlight: Promise<void> | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** True once keys were loaded at least once (a failed first fetch leaves it false). */
  loaded = false;

  private constructor(
    readonly id: string,
    private readonly load: Loader,
    private readonly options: KeySourceOptions,
    private readonly remote: boolean,
  ) {}

  static inline(id: string, jwks: string, options: KeySourceOptions): KeySource {
    const source = new KeySource(id, async () => JSON.parse(jwks) as { keys: JWK[] }, options, false);
    return source;
  }

  static remote(id: string, jwksUri: string, options: KeySourceOptions): KeySource {
    return new KeySource(id, () => fetchJson(jwksUri, options.fetchTimeoutMs) as Promise<{ keys?: JWK[] }>, options, true);
  }

  /** No jwksUri: OIDC discovery at `<issuer>/.well-known/openid-configuration` gives jwks_uri. */
  static discovered(id: string, issuer: string, options: KeySourceOptions): KeySource {
    let jwksUri: string | undefined;
    return new KeySource(id, async () => {
      if (!jwksUri) {
        const discovery = (await fetchJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, options.fetchTimeoutMs)) as { jwks_uri?: unknown };
        if (typeof discovery.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
        jwksUri = discovery.jwks_uri;
      }
      return (await fetchJson(jwksUri, options.fetchTimeoutMs)) as { keys?: JWK[] };
    }, options, true);
  }

  /** idgate's own issuer in the same process: no HTTP; rotation is pushed through onChange. */
  static inProcess(id: string, keySet: VerificationKeySet, options: KeySourceOptions): KeySource {
    const source = new KeySource(id, () => keySet.jwks(), options, false);
    source.unsubscribe = keySet.onChange?.(() => void source.refresh());
    return source;
  }

  /** First load, then the background refresh timer for remote sources. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.remote && this.options.refreshIntervalMs > 0) {
      this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** Reloads the keys; single-flight. A failure keeps the keys already held. */
  refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.lastAttempt = this.options.now();
    this.inFlight = this.load()
      .then((jwks) => {
        const keys = importVerificationKeys(jwks, this.options.algorithms);
        this.keys = keys;
        this.byKid = new Map(keys.filter((k) => k.kid !== undefined).map((k) => [k.kid!, k]));
        this.loaded = true;
        this.options.onFetch?.(this.id, true);
      })
      .catch((error: unknown) => {
        this.options.onFetch?.(this.id, false);
        this.options.logger.warn({ keySource: this.id, err: { message: (error as Error).message } }, 'JWKS fetch failed; keeping cached keys');
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** Keys that may verify a token with this kid and alg (all keys of that alg when the token has no kid). */
  candidates(kid: string | undefined, alg: JwsAlgorithm): VerificationKey[] {
    if (kid !== undefined) {
      const key = this.byKid.get(kid);
      return key && key.algorithms.has(alg) ? [key] : [];
    }
    return this.keys.filter((k) => k.algorithms.has(alg));
  }

  /** Like candidates, but an unknown kid triggers a refetch (at most once per cooldown) and a retry. */
  async candidatesRefreshing(kid: string | undefined, alg: JwsAlgorithm): Promise<VerificationKey[]> {
    const found = this.candidates(kid, alg);
    if (found.length > 0) return found;
    if (this.inFlight) await this.inFlight;
    else if (this.options.now() - this.lastAttempt >= this.options.unknownKidCooldownMs) await this.refresh();
    return this.candidates(kid, alg);
  }
}

async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}
