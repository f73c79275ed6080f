/**
 * IDG0101/IDG0102/IDG0103: can the filter verify tokens for each jwtRule? An inline `jwks` is imported
 * as the filter imports it (importVerificationKeys, the configured algorithms): no usable key is
 * IDG0102, some keys skipped IDG0103. Online, a `jwksUri` (or the issuer's discovery document) is
 * fetched through the filter's own KeySource: a failure is IDG0101, a JWKS without a usable key IDG0102.
 */
import type { JWK } from 'jose';
import type { JwsAlgorithm, JwtRuleSpec } from '../../../authz/config.js';
import { KeySource } from '../../../authz/jwt/key-source.js';
import { importVerificationKeys } from '../../../authz/jwt/verification-key.js';
import { createLogger } from '../../../telemetry/logger.js';
import { findingOn, type Finding, type Subject } from '../finding.js';

/** A jwtRule and where it is written (a RequestAuthentication's `spec.jwtRules[i]`, or the config's `filter.jwtRules[i]`). */
export interface LocatedJwtRule {
  subject: Subject;
  path: string;
  rule: JwtRuleSpec;
}

export interface KeyCheckOptions {
  algorithms: ReadonlySet<JwsAlgorithm>;
  /** Skip everything that needs the network (jwksUri, discovery). */
  offline: boolean;
  fetchTimeoutMs: number;
}

function describeKey(jwk: JWK): string {
  return jwk.kid !== undefined ? `kid "${jwk.kid}"` : `a ${jwk.kty ?? 'typeless'} key`;
}

/** The inline check, which needs no network (so it also runs on every reload). */
export function checkInlineJwks(located: LocatedJwtRule, algorithms: ReadonlySet<JwsAlgorithm>): Finding[] {
  const { subject, path, rule } = located;
  if (rule.jwks === undefined) return [];
  let jwks: { keys?: JWK[] };
  try {
    jwks = JSON.parse(rule.jwks) as { keys?: JWK[] };
  } catch {
    return []; // not JSON: Istio's validation (IDG0001) says so
  }
  if (!Array.isArray(jwks.keys)) return [];
  const usable = importVerificationKeys(jwks, algorithms);
  const allowed = [...algorithms].join(', ');
  if (usable.length === 0) {
    return [findingOn(subject, 'IDG0102', `${path}.jwks`, `no key of the JWKS can verify a token with the filter's algorithms (${allowed}): every token of "${rule.issuer}" is refused`, { value: rule.issuer })];
  }
  const skipped = jwks.keys.filter((k) => importVerificationKeys({ keys: [k] }, algorithms).length === 0);
  if (skipped.length === 0) return [];
  return [findingOn(subject, 'IDG0103', `${path}.jwks`, `${skipped.map(describeKey).join(', ')}: not usable for signatures with ${allowed} (type, curve, use or alg); skipped`, { value: rule.issuer })];
}

interface FetchResult {
  error?: string;
  usable: number;
}

/** Fetches once per issuer/URI through the filter's KeySource; the reason of a failure comes from its log line. */
async function fetchKeys(rule: JwtRuleSpec, options: KeyCheckOptions): Promise<FetchResult> {
  let error: string | undefined;
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => void (error = (JSON.parse(line) as { err?: { message?: string } }).err?.message ?? error) },
  });
  const sourceOptions = { algorithms: options.algorithms, refreshIntervalMs: 0, unknownKidCooldownMs: 0, fetchTimeoutMs: options.fetchTimeoutMs, now: Date.now, logger };
  const source = rule.jwksUri ? KeySource.remote('validate', rule.jwksUri, sourceOptions) : KeySource.discovered('validate', rule.issuer, sourceOptions);
  await source.refresh();
  if (!source.loaded) return { error: error ?? 'fetch failed', usable: 0 };
  const usable = new Set([...options.algorithms].flatMap((alg) => source.candidates(undefined, alg)));
  return { usable: usable.size };
}

export async function checkJwtRuleKeys(rules: readonly LocatedJwtRule[], options: KeyCheckOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const fetched = new Map<string, Promise<FetchResult>>();
  for (const located of rules) {
    const { subject, path, rule } = located;
    if (rule.jwks !== undefined) {
      findings.push(...checkInlineJwks(located, options.algorithms));
      continue;
    }
    if (options.offline) continue;
    const where = rule.jwksUri ?? `${rule.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    if (!fetched.has(where)) fetched.set(where, fetchKeys(rule, options));
    const result = await fetched.get(where)!;
    const at = rule.jwksUri ? `${path}.jwksUri` : `${path}.issuer`;
    if (result.error !== undefined) {
      findings.push(findingOn(subject, 'IDG0101', at, `cannot fetch ${rule.jwksUri ? 'the JWKS' : "the issuer's discovery document or JWKS"} (${where}): ${result.error}`, { value: rule.jwksUri ?? rule.issuer }));
    } else if (result.usable === 0) {
      findings.push(findingOn(subject, 'IDG0102', at, `the JWKS from ${where} has no key that can verify a token with the filter's algorithms (${[...options.algorithms].join(', ')})`, { value: rule.jwksUri ?? rule.issuer }));
    }
  }
  return findings;
}

/** A list of audiences a jwtRule (or filter.issuerAudiences) accepts, and where it is written. */
export interface LocatedAudiences {
  subject: Subject;
  path: string;
  issuer: string;
  audiences: readonly string[];
}

/** IDG0104: audiences accepted for idgate's own issuer that are not the id of any static client. */
export function checkAudiences(lists: readonly LocatedAudiences[], issuer: string, clientIds: ReadonlySet<string>): Finding[] {
  const findings: Finding[] = [];
  for (const { subject, path, issuer: listIssuer, audiences } of lists) {
    if (listIssuer !== issuer) continue;
    audiences.forEach((audience, i) => {
      if (clientIds.has(audience)) return;
      findings.push(findingOn(subject, 'IDG0104', `${path}[${i}]`, `idgate issues tokens for "${issuer}" with a client id as audience, and no static client has id "${audience}": no token it issues carries this audience`, { value: audience }));
    });
  }
  return findings;
}
