/**
 * `explain --claims`: a stand-in for the Authenticator that takes the token's claims as given and runs
 * every check that needs no signature, with the Authenticator's own functions, so a "what if" answer is
 * never more lenient than serve: the token is looked for where the jwtRules look, its issuer must be
 * configured there, exp/nbf hold with the clock skew, and an audience must be allowed.
 */
import type { JWTPayload } from 'jose';
import type { RequestAuthenticator } from '../decide.js';
import type { ScopedJwtRule } from '../policy/policy-set.js';
import { audienceAllowed, checkTimes, issuerRulesAt, type Authentication } from './authenticate.js';
import { JwtError } from './jwt-error.js';
import { locateToken } from './locate-token.js';

export class AssumedClaims implements RequestAuthenticator {
  constructor(
    private readonly claims: JWTPayload,
    private readonly now: () => number,
    private readonly skewMs: number,
  ) {}

  async authenticate(request: { headers: Readonly<Record<string, string | undefined>>; path: string }, scoped: readonly ScopedJwtRule[]): Promise<Authentication> {
    // As in serve: without jwtRules a token is not looked at, and one where no rule looks is not seen.
    if (scoped.length === 0) return { kind: 'anonymous' };
    const rules = scoped.map((s) => s.rule);
    const located = locateToken(request, rules);
    if (!located) return { kind: 'anonymous' };
    const { token, location } = located;
    try {
      const issuerRules = issuerRulesAt(rules, this.claims.iss, location);
      if (issuerRules.length === 0) throw new JwtError('ERR_JWT_ISSUER_NOT_CONFIGURED');
      checkTimes(this.claims, this.now(), this.skewMs);
      const rule = issuerRules.find((r) => audienceAllowed(r, this.claims));
      if (!rule) throw new JwtError('ERR_JWT_AUDIENCE');
      return { kind: 'authenticated', payload: this.claims, rule, location, token, kept: true };
    } catch (error) {
      if (error instanceof JwtError) return { kind: 'failed', error, location };
      throw error;
    }
  }
}

/** The compact form a request carries for assumed claims: alg "none", no signature (it is never verified). */
export function unsignedTokenOf(claims: JWTPayload): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}
