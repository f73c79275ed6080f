/**
 * response_type (OAuth 2.0 Multiple Response Types, OIDC Core §3): `code`, or an implicit or hybrid
 * combination of code, id_token and token in any order, each part enabled by oauth2.responseTypes
 * (Dex's values). `token` alone, OAuth 2.0's implicit grant (an access token with nothing to bind it to
 * the request), is refused, as Dex refuses it and RFC 9700 §2.1.2 advises. response_mode is query,
 * fragment or form_post; query is refused when tokens come back (they would sit in server logs and
 * Referer headers), and the default is fragment then, query for `code`. The out-of-band redirect URI
 * shows a code on a page, so it takes `code` in the query only. The mode is set as soon as it is known,
 * so even a refused response type is answered the way the client asked or would expect.
 */
import type { Config } from '../../config/load.js';
import { OAuthError } from '../errors.js';
import { OOB_REDIRECT_URI } from './check_redirect_uri.js';
import { isResponseMode } from './response_mode.js';
import type { AuthorizeCheck } from './state.js';

/** A parsed response_type: which parts it asks for, and its canonical spelling ("code id_token token"). */
export interface ResponseType {
  code: boolean;
  idToken: boolean;
  token: boolean;
  value: string;
}

const PARTS = ['code', 'id_token', 'token'] as const;

/** The response types a request may use, in discovery's order: `code` and the combinations with an ID token or code. */
const COMBINATIONS = ['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'] as const;

/** Undefined unless `value` is space-separated distinct parts from code, id_token, token. */
export function parseResponseType(value: string): ResponseType | undefined {
  const parts = value.split(' ');
  if (parts.length === 0 || new Set(parts).size !== parts.length) return undefined;
  if (!parts.every((part) => (PARTS as readonly string[]).includes(part))) return undefined;
  return {
    code: parts.includes('code'),
    idToken: parts.includes('id_token'),
    token: parts.includes('token'),
    value: PARTS.filter((part) => parts.includes(part)).join(' '),
  };
}

/** The parts oauth2.responseTypes enables: those of every listed value. */
function enabledParts(config: Config): Set<string> {
  return new Set(config.oauth2.responseTypes.flatMap((value) => value.split(' ')));
}

/** What /auth serves and discovery advertises: every combination whose parts are all enabled. */
export function supportedResponseTypes(config: Config): string[] {
  const enabled = enabledParts(config);
  return COMBINATIONS.filter((combination) => combination.split(' ').every((part) => enabled.has(part)));
}

/** True when an access token or ID token comes back from /auth (implicit or hybrid). */
export function returnsTokens(type: ResponseType): boolean {
  return type.token || type.idToken;
}

export const checkResponseType: AuthorizeCheck = (state, issuer) => {
  const mode = state.params.response_mode;
  if (mode !== undefined) {
    if (!isResponseMode(mode)) throw new OAuthError('invalid_request', `response_mode "${mode}" is not supported (use query, fragment or form_post)`);
    state.responseMode = mode;
  }
  const value = state.params.response_type;
  if (!value) throw new OAuthError('invalid_request', 'the request has no response_type');
  const supported = supportedResponseTypes(issuer.config);
  const type = parseResponseType(value);
  // From here on, refusals go back in the mode this response type would use.
  if (type && mode === undefined) state.responseMode = returnsTokens(type) ? 'fragment' : 'query';
  if (type?.value === 'token') {
    throw new OAuthError('unsupported_response_type', 'response_type "token" alone is not supported: ask for "id_token token" or "code token" (RFC 9700 §2.1.2)');
  }
  if (!type || !supported.includes(type.value)) {
    throw new OAuthError('unsupported_response_type', `response_type "${value}" is not supported (use ${supported.map((t) => `"${t}"`).join(', ')})`);
  }
  if (state.redirectURI === OOB_REDIRECT_URI && (type.value !== 'code' || (mode !== undefined && mode !== 'query'))) {
    throw new OAuthError('invalid_request', 'the out-of-band redirect URI takes response_type "code" in the query only');
  }
  if (returnsTokens(type) && mode === 'query') {
    state.responseMode = 'fragment';
    throw new OAuthError('invalid_request', 'response_mode "query" is not allowed when tokens are returned (use fragment or form_post)');
  }
  state.responseType = type;
};
