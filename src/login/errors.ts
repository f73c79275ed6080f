/**
 * Errors of the login flow that a person sees as a page: each has a stable `code` (tests and audit
 * switch on it), the HTTP status, a short title and one sentence. Connector failures are mapped here
 * so every connector's errors read the same.
 */
import { ConnectorError } from '../connector.js';

export type LoginErrorCode =
  | 'bad_request'
  | 'request_not_found'
  | 'csrf'
  | 'wrong_browser'
  | 'too_many_requests'
  | 'connector_not_found'
  | 'connector_not_allowed'
  | 'not_logged_in'
  | 'already_completed'
  | 'mfa_required'
  | 'session_ended'
  | 'upstream_unavailable'
  | 'upstream_error'
  | 'invalid_response'
  | 'replay'
  | 'not_in_allowed_groups'
  | 'account_not_allowed'
  | 'access_denied'
  | 'misconfigured'
  | 'not_found'
  | 'internal';

export class LoginError extends Error {
  constructor(
    readonly code: LoginErrorCode,
    readonly status: number,
    readonly title: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LoginError';
  }
}

export function requestNotFound(): LoginError {
  return new LoginError(
    'request_not_found', 400, 'This sign-in link has expired',
    'The sign-in request is unknown or has expired. Go back to the application and start again.',
  );
}

export function csrfFailure(): LoginError {
  return new LoginError(
    'csrf', 403, 'The form could not be accepted',
    'The form was missing its security token or it did not match. Reload the page and try again.',
  );
}

/** A ConnectorError as the page a person sees; `upstream` names the sign-in service. */
export function fromConnectorError(error: ConnectorError, upstream: string): LoginError {
  switch (error.code) {
    case 'upstream_unavailable':
      return new LoginError('upstream_unavailable', 502, 'Sign-in service unavailable', `The sign-in service at ${upstream} did not answer. Try again in a moment.`, { cause: error });
    case 'upstream_error':
      return new LoginError('upstream_error', 502, 'Sign-in service error', `The sign-in service at ${upstream} reported an error: ${error.message}`, { cause: error });
    case 'not_in_allowed_groups':
      return new LoginError('not_in_allowed_groups', 403, 'Access not allowed', 'You are not in a group allowed to use this application.', { cause: error });
    case 'account_not_allowed':
      return new LoginError('account_not_allowed', 403, 'Access not allowed', `This account cannot sign in here: ${error.message}`, { cause: error });
    case 'access_denied':
      return new LoginError('access_denied', 403, 'Access denied', `The sign-in was refused: ${error.message}`, { cause: error });
    case 'replay':
      return new LoginError('replay', 400, 'This response was already used', `The sign-in response was already used: ${error.message}`, { cause: error });
    case 'invalid_response':
      return new LoginError('invalid_response', 400, 'Invalid sign-in response', `The sign-in response could not be accepted: ${error.message}`, { cause: error });
    case 'misconfigured':
      return new LoginError('misconfigured', 500, 'Sign-in is misconfigured', `The sign-in method ${upstream} is not configured correctly.`, { cause: error });
  }
}

/** Anything thrown in a login handler as a LoginError; unknown errors become a generic 500. */
export function toLoginError(error: unknown, upstream = 'the identity provider'): LoginError {
  if (error instanceof LoginError) return error;
  if (error instanceof ConnectorError) return fromConnectorError(error, upstream);
  return new LoginError('internal', 500, 'Something went wrong', 'The sign-in could not be completed because of an internal error.', { cause: error });
}

/** Runs a connector call; whatever it throws becomes a LoginError naming the connector. */
export async function callConnector<T>(upstream: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toLoginError(error, upstream);
  }
}
