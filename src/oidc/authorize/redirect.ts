/**
 * Builds the authorization response URLs sent back to a validated redirect URI: the code or the
 * error, always with `state` (when the client sent one) and `iss` (RFC 9207, mix-up defence). Existing
 * query parameters of the registered URI are kept.
 */
import type { OAuthError } from '../errors.js';

export function authorizationResponseURL(
  redirectURI: string,
  issuer: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectURI);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  url.searchParams.set('iss', issuer);
  return url.toString();
}

export function authorizationErrorURL(redirectURI: string, issuer: string, error: OAuthError, state?: string): string {
  return authorizationResponseURL(redirectURI, issuer, { error: error.code, error_description: error.description, state });
}
