/**
 * How an authorization response reaches the client's redirect URI (response_mode; OAuth 2.0 Multiple
 * Response Type Encoding Practices, OAuth 2.0 Form Post Response Mode): `query` (the code flow's
 * default; the registered URI's own query parameters are kept), `fragment` (the default when tokens
 * come back, so they never reach a server log or a Referer header) or `form_post` (a page that POSTs
 * the parameters, so nothing is in a URL at all). Every response carries `state` when the client sent
 * one and `iss` (RFC 9207, mix-up defence). A record without a mode is answered in the query.
 */
import type { OAuthError } from '../errors.js';

export const RESPONSE_MODES = ['query', 'fragment', 'form_post'] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];

/** What the browser is given: a redirect, or a form it posts (form_post) to `action`. */
export type AuthorizationResponse =
  | { location: string }
  | { formPost: { action: string; fields: Record<string, string> } };

export function isResponseMode(value: string): value is ResponseMode {
  return (RESPONSE_MODES as readonly string[]).includes(value);
}

export function authorizationResponse(
  redirectURI: string,
  mode: ResponseMode | undefined,
  issuer: string,
  params: Record<string, string | undefined>,
): AuthorizationResponse {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) fields[key] = value;
  fields.iss = issuer;
  if (mode === 'form_post') return { formPost: { action: redirectURI, fields } };
  const url = new URL(redirectURI);
  if (mode === 'fragment') url.hash = new URLSearchParams(fields).toString();
  else for (const [key, value] of Object.entries(fields)) url.searchParams.set(key, value);
  return { location: url.toString() };
}

export function authorizationErrorResponse(
  redirectURI: string,
  mode: ResponseMode | undefined,
  issuer: string,
  error: OAuthError,
  state?: string,
): AuthorizationResponse {
  return authorizationResponse(redirectURI, mode, issuer, { error: error.code, error_description: error.description, state });
}
