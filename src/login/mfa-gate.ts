/**
 * The door between the first factor and the rest of a login: once a connector (or the browser's login
 * session) has said who the person is, the MFA rules (sessions/mfa/policy.ts) decide whether a second
 * factor is still missing. If so the browser goes to /mfa, never back to the password; a request that
 * cannot show a page (prompt=none) is answered interaction_required, and one whose acr no
 * authenticator of this connector can reach is answered unmet_authentication_requirements.
 */
import type { IssuerContext } from '../oidc/context.js';
import { OOB_REDIRECT_URI } from '../oidc/authorize/check_redirect_uri.js';
import { authorizationErrorResponse } from '../oidc/authorize/response_mode.js';
import { OAuthError } from '../oidc/errors.js';
import { reachedAcr } from '../sessions/mfa/acr.js';
import { loginConnectorOf, nextMFAStep, type MFAStep } from '../sessions/mfa/policy.js';
import type { AuthRequest } from '../storage/storage.js';
import { LoginError } from './errors.js';
import type { NextStep } from './flow.js';

/** The step `authRequest` (logged in) is at, by the rules of its client, connector and acr values. */
export async function mfaStepOf(issuer: IssuerContext, authRequest: AuthRequest): Promise<MFAStep | undefined> {
  const open = authRequest.connectorId === undefined ? undefined : issuer.connectors.get(authRequest.connectorId);
  if (!open) return undefined;
  const client = await issuer.storage.clients.get(authRequest.clientId);
  return nextMFAStep(
    { mfa: issuer.config.mfa, client, connector: loginConnectorOf(issuer.config, open), acrValues: authRequest.acrValues },
    { amr: authRequest.amr ?? [], passed: authRequest.mfa?.passed ?? [] },
  );
}

/** The acr a login with these methods reached: what its tokens say. */
export function acrOf(amr: readonly string[] | undefined): string {
  return reachedAcr(amr ?? []);
}

/**
 * Where a logged-in request goes when a second factor is missing (the /mfa page, or an error to the
 * client); undefined when nothing is missing and the login may go on to consent.
 */
export async function secondFactorStep(issuer: IssuerContext, authRequest: AuthRequest): Promise<NextStep | undefined> {
  const step = await mfaStepOf(issuer, authRequest);
  if (!step) return undefined;
  if (step.kind === 'unmet') {
    return endWithError(issuer, authRequest, new OAuthError('unmet_authentication_requirements', `"${step.acr}" cannot be reached with this sign-in method`));
  }
  if (authRequest.prompt?.includes('none')) {
    return endWithError(issuer, authRequest, new OAuthError('interaction_required', 'a second factor is needed, which prompt=none does not allow'));
  }
  return { location: `${issuer.basePath}/mfa?req=${encodeURIComponent(authRequest.id)}` };
}

async function endWithError(issuer: IssuerContext, authRequest: AuthRequest, error: OAuthError): Promise<NextStep> {
  const taken = await issuer.storage.authRequests.take(authRequest.id);
  issuer.audit.write({ event: 'mfa_failed', outcome: 'refused', reason: error.code, clientId: authRequest.clientId, connectorId: authRequest.connectorId });
  if (!taken || taken.redirectURI === OOB_REDIRECT_URI) throw new LoginError('access_denied', 403, 'Sign-in not possible', `${error.description}.`);
  return authorizationErrorResponse(taken.redirectURI, taken.responseMode, issuer.issuer, error, taken.state);
}
