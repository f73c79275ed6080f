/**
 * Request authentication with Istio's RequestAuthentication outcomes: no token means no identity; a
 * token that fails means 401 (403 for a wrong audience). Tokens are read strictly first (parse-token.ts).
 * A verified token is cached until its exp, so the hot path verifies each token once; keys come from
 * KeySources shared across policy reloads.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { parseDuration } from '../../config/duration.js';
import type { VerificationKeySet } from '../../keys/keyset.js';
import type { FilterConfig, JwsAlgorithm, JwtRuleSpec } from '../config.js';
import type { ScopedJwtRule } from '../policy/policy-set.js';
import { JwtError } from './jwt-error.js';
import { KeySource, type KeySourceOptions } from './key-source.js';
import { locateToken, locationsOf, sameLocation, type TokenLocation } from './locate-token.js';
import { checkTokenSize, parseToken, type ParsedToken } from './parse-token.js';
import { TokenCache } from './token-cache.js';
import { signatureVerifier, type SignatureVerifier } from './verify-signature.js';

export type Authentication =
  | { kind: 'anonymous' }
  /** `kept`: the payload object is the verified-token cache's, so what is derived from it may be memoized against it. */
  | { kind: 'authenticated'; payload: JWTPayload; rule: JwtRuleSpec; location: TokenLocation; token: string; kept: boolean }
  | { kind: 'failed'; error: JwtError; location: TokenLocation };

export interface AuthenticatorOptions {
  config: Pick<FilterConfig, 'algorithms' | 'clockSkew' | 'tokenCache' | 'jwks' | 'verifier'>;
  logger: Logger;
  now: () => number;
  keySet?: VerificationKeySet;
  issuer?: string;
  onJwksFetch?: (source: string, ok: boolean) => void;
}

/** Tokens without exp are cached at most this long. */
const NO_EXP_CACHE_MS = 5 * 60_000;

export class Authenticator {
  private readonly sources = new Map<string, KeySource>();
  /** The jwtRule list of each workload view, derived once (views are immutable). */
  private readonly ruleLists = new WeakMap<readonly ScopedJwtRule[], JwtRuleSpec[]>();
  private readonly cache: TokenCache;
  private readonly verifySignature: SignatureVerifier;
  private readonly algorithms: ReadonlySet<JwsAlgorithm>;
  private readonly skewMs: number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.cache = new TokenCache(options.config.tokenCache);
    this.verifySignature = signatureVerifier(options.config.verifier);
    this.algorithms = new Set(options.config.algorithms);
    this.skewMs = options.config.clockSkew;
  }

  private sourceOptions(): KeySourceOptions {
    const { jwks } = this.options.config;
    return {
      algorithms: this.algorithms,
      refreshIntervalMs: jwks.refreshInterval,
      unknownKidCooldownMs: jwks.unknownKidCooldown,
      fetchTimeoutMs: jwks.fetchTimeout,
      now: this.options.now,
      logger: this.options.logger,
      ...(this.options.onJwksFetch ? { onFetch: this.options.onJwksFetch } : {}),
    };
  }

  private readonly sourceKeys = new WeakMap<JwtRuleSpec, string>();

  /** Which key source verifies a rule's tokens (memoized: it is compared on every cache hit). */
  private sourceKey(rule: JwtRuleSpec): string {
    let key = this.sourceKeys.get(rule);
    if (key !== undefined) return key;
    if (this.options.keySet && this.options.issuer === rule.issuer) key = `issuer:${rule.issuer}`;
    else if (rule.jwks) key = `inline:${rule.issuer}#${createHash('sha256').update(rule.jwks).digest('hex').slice(0, 16)}`;
    else if (rule.jwksUri) key = `uri:${rule.jwksUri}`;
    else key = `discovery:${rule.issuer}`;
    this.sourceKeys.set(rule, key);
    return key;
  }

  /** Makes sure every rule has a started key source; closes sources no rule uses any more. */
  async prepare(rules: readonly ScopedJwtRule[]): Promise<void> {
    const wanted = new Set<string>();
    const starting: Array<Promise<void>> = [];
    for (const { rule } of rules) {
      const key = this.sourceKey(rule);
      wanted.add(key);
      if (this.sources.has(key)) continue;
      const options = this.sourceOptions();
      const timeout = rule.timeout === undefined ? undefined : parseDuration(rule.timeout);
      if (timeout !== undefined) options.fetchTimeoutMs = timeout; // the jwtRule's own JWKS fetch timeout
      const source = key.startsWith('issuer:')
        ? KeySource.inProcess(key, this.options.keySet!, options)
        : rule.jwks
          ? KeySource.inline(key, rule.jwks, options)
          : rule.jwksUri
            ? KeySource.remote(key, rule.jwksUri, options)
            : KeySource.discovered(key, rule.issuer, options);
      this.sources.set(key, source);
      starting.push(source.start());
    }
    await Promise.all(starting);
    for (const [key, source] of this.sources) {
      if (!wanted.has(key)) {
        source.close();
        this.sources.delete(key);
      }
    }
  }

  close(): void {
    for (const source of this.sources.values()) source.close();
    this.sources.clear();
    this.cache.clear();
  }

  async authenticate(request: { headers: Readonly<Record<string, string | undefined>>; path: string }, scoped: readonly ScopedJwtRule[]): Promise<Authentication> {
    if (scoped.length === 0) return { kind: 'anonymous' };
    let rules = this.ruleLists.get(scoped);
    if (!rules) this.ruleLists.set(scoped, (rules = scoped.map((s) => s.rule)));
    const located = locateToken(request, rules);
    if (!located) return { kind: 'anonymous' };
    const { token, location } = located;
    try {
      checkTokenSize(token);
      const now = this.options.now();
      // The cache is keyed by the exact token string and holds only tokens that passed parseToken, so
      // a hit is a token already read strictly; anything else is parsed (and refused) here.
      const cached = this.cache.get(token, now);
      const parsed = cached ? undefined : parseToken(token);
      const claimed = cached ? cached.payload : parsed!.payload;
      // Rules for the token's issuer that look where the token was found.
      const issuerRules = issuerRulesAt(rules, claimed.iss, location);
      if (issuerRules.length === 0) throw new JwtError('ERR_JWT_ISSUER_NOT_CONFIGURED');
      const sourceKey = this.sourceKey(issuerRules[0]!);
      // A hit allocates nothing here: only a token verified now gets the { payload, kept } of verify().
      let payload: JWTPayload;
      let kept = true;
      if (cached !== undefined && cached.keySource === sourceKey) payload = cached.payload;
      else ({ payload, kept } = await this.verify(token, parsed ?? parseToken(token), sourceKey, now));
      const rule = issuerRules.find((r) => audienceAllowed(r, payload));
      if (!rule) throw new JwtError('ERR_JWT_AUDIENCE');
      return { kind: 'authenticated', payload, rule, location, token, kept };
    } catch (error) {
      if (error instanceof JwtError) return { kind: 'failed', error, location };
      throw error;
    }
  }

  private async verify(token: string, parsed: ParsedToken, sourceKey: string, now: number): Promise<{ payload: JWTPayload; kept: boolean }> {
    const source = this.sources.get(sourceKey);
    if (!source) throw new JwtError('ERR_JWKS_UNAVAILABLE');
    const { header, payload } = parsed;
    const alg = header.alg;
    if (typeof alg !== 'string' || !this.algorithms.has(alg as JwsAlgorithm)) throw new JwtError('ERR_JWT_ALG_NOT_ALLOWED');
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    // A known kid is found without waiting; only an unknown one may wait for a refetch.
    const known = source.candidates(kid, alg as JwsAlgorithm);
    const keys = known.length > 0 ? known : await source.candidatesRefreshing(kid, alg as JwsAlgorithm);
    if (keys.length === 0) throw new JwtError(source.loaded ? 'ERR_JWKS_NO_MATCHING_KEY' : 'ERR_JWKS_UNAVAILABLE');
    let ok = false;
    for (const key of keys) {
      const verified = this.verifySignature(token, parsed.signingInput, parsed.signature, alg as JwsAlgorithm, key);
      // node:crypto answers synchronously; only the jose path returns a promise.
      if (typeof verified === 'boolean' ? verified : await verified) {
        ok = true;
        break;
      }
    }
    if (!ok) throw new JwtError('ERR_JWT_SIGNATURE');
    checkTimes(payload, now, this.skewMs);
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : now + NO_EXP_CACHE_MS;
    const kept = expiresAt > now && this.cache.offer(token, { payload, keySource: sourceKey, expiresAt });
    return { payload, kept };
  }
}

/** exp and nbf with the clock skew (Envoy's 60 s by default); wrong types are malformed. */
export function checkTimes(payload: JWTPayload, now: number, skewMs: number): void {
  if (payload.exp !== undefined && typeof payload.exp !== 'number') throw new JwtError('ERR_JWT_MALFORMED');
  if (payload.nbf !== undefined && typeof payload.nbf !== 'number') throw new JwtError('ERR_JWT_MALFORMED');
  if (payload.exp !== undefined && now > payload.exp * 1000 + skewMs) throw new JwtError('ERR_JWT_EXPIRED');
  if (payload.nbf !== undefined && now < payload.nbf * 1000 - skewMs) throw new JwtError('ERR_JWT_NOT_YET_VALID');
}

/** The rules for a token's issuer that look where the token was found (none: "Jwt issuer is not configured"). */
export function issuerRulesAt(rules: readonly JwtRuleSpec[], issuer: unknown, location: TokenLocation): JwtRuleSpec[] {
  const out: JwtRuleSpec[] = [];
  for (const r of rules) if (r.issuer === issuer && locationsOf(r).some((l) => sameLocation(l, location))) out.push(r);
  return out;
}

/** A rule without audiences accepts any; otherwise one of the token's aud must be listed. */
export function audienceAllowed(rule: JwtRuleSpec, payload: JWTPayload): boolean {
  if (!rule.audiences || rule.audiences.length === 0) return true;
  const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  return aud.some((a) => rule.audiences!.includes(a));
}
