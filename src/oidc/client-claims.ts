/**
 * A static client's claim expressions (staticClients[].claims and userValidationRules, docs/claims.md)
 * wherever tokens are made for a person: every grant that issues them, and /auth before a code or
 * front-channel token leaves. A rule that does not hold refuses: at the token endpoint with
 * invalid_grant (RFC 6749 §5.2 has no access_denied; the grant is not good for this client), at the
 * authorization endpoint with access_denied (§4.1.2.1), the rule's message as error_description.
 */
import { evaluateClientClaims, type ClientTokenClaims } from '../claims/client-claims.js';
import { ClaimRuleError } from '../claims/connector-claims.js';
import type { StoredIdentity } from '../storage/storage.js';
import type { GrantedSession } from './claims.js';
import type { IssuerContext } from './context.js';
import { OAuthError } from './errors.js';

/** The person a token is for, and what was granted. */
export interface TokenFor {
  clientId: string;
  identity: StoredIdentity;
  connectorId: string;
  scopes: readonly string[];
}

/** The client's claims for this person (undefined: it has no claim rules), or the OAuthError refusing them. */
export function clientClaimsFor(ctx: IssuerContext, subject: TokenFor, code: 'invalid_grant' | 'access_denied' = 'invalid_grant'): ClientTokenClaims | undefined {
  const rules = ctx.config.staticClients.find((client) => client.id === subject.clientId)?.claimRules;
  if (!rules) return undefined;
  try {
    return evaluateClientClaims(rules, subject);
  } catch (error) {
    if (!(error instanceof ClaimRuleError)) throw error;
    ctx.logger.info({ clientId: subject.clientId, rule: error.rule, reason: error.detail ?? error.message }, 'client claim rule refused a token');
    throw new OAuthError(code, error.message, { cause: error });
  }
}

/** The session with the client's claims in it; throws invalid_grant when one of its rules refuses. */
export function withClientClaims(ctx: IssuerContext, session: GrantedSession): GrantedSession {
  const claims = clientClaimsFor(ctx, { ...session, scopes: session.scopes.all });
  return claims ? { ...session, clientClaims: claims } : session;
}

/** For /auth: throws access_denied when one of the client's rules refuses this person. */
export function checkClientRules(ctx: IssuerContext, subject: TokenFor): void {
  clientClaimsFor(ctx, subject, 'access_denied');
}
